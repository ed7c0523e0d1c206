using System.Text;
using System.Text.RegularExpressions;

namespace CnnInterpret.Core.Imaging;

/// <summary>Reads the .npy files this project commits (uint8, C order, version 1.x/2.x): small background sets.</summary>
public static partial class NpyReader
{
    public static (byte[] Data, int[] Shape) ReadBytes(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw Bad(path, "it is not a .npy file");
        var (headerLength, start) = bytes[6] == 1 ? (BitConverter.ToUInt16(bytes, 8), 10) : ((int)BitConverter.ToUInt32(bytes, 8), 12);
        var header = Encoding.ASCII.GetString(bytes, start, Math.Min(headerLength, bytes.Length - start));
        if (!header.Contains("'|u1'") || header.Contains("'fortran_order': True"))
            throw Bad(path, "only uint8 arrays in C order are read");
        var match = ShapePattern().Match(header);
        if (!match.Success) throw Bad(path, "its header has no shape");
        var shape = match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var offset = start + headerLength;
        if (bytes.Length - offset != count) throw Bad(path, $"it should hold {count} bytes of data, not {bytes.Length - offset}");
        return (bytes[offset..], shape);
    }

    private static CnnInterpretException Bad(string path, string why) =>
        new(ErrorKind.BadModelFile, $"Cannot read '{path}': {why}. Restore it from the repository (or rerun the script next to it).");

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
