using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace CnnInterpret.Core.Imaging;

/// <summary>One array of a .npy file: numpy's dtype string (<c>&lt;f4</c>, <c>&lt;i4</c>, <c>|u1</c>), shape and raw little-endian data.</summary>
public sealed record NpyArray(string Descr, int[] Shape, byte[] Data)
{
    public float[] Floats() => Cast<float>("<f4");

    public int[] Ints() => Cast<int>("<i4");

    private T[] Cast<T>(string descr) where T : struct => Descr == descr
        ? MemoryMarshal.Cast<byte, T>(Data).ToArray()
        : throw new CnnInterpretException(ErrorKind.InvalidArgument, $"This .npy array holds '{Descr}', not '{descr}'.");
}

/// <summary>
/// Reads .npy files (format 1.x/2.x, C order, little-endian or single-byte dtypes): the background sets this project
/// commits, and the files its own explainers write (which the tests read back, as numpy would).
/// </summary>
public static partial class NpyReader
{
    public static NpyArray Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw Bad(path, "it is not a .npy file");
        var (headerLength, start) = bytes[6] == 1 ? (BitConverter.ToUInt16(bytes, 8), 10) : ((int)BitConverter.ToUInt32(bytes, 8), 12);
        var header = Encoding.ASCII.GetString(bytes, start, Math.Min(headerLength, bytes.Length - start));
        if (header.Contains("'fortran_order': True")) throw Bad(path, "only arrays in C order are read");
        var descr = DescrPattern().Match(header);
        var shapeText = ShapePattern().Match(header);
        if (!descr.Success || !shapeText.Success) throw Bad(path, "its header has no dtype or no shape");
        var itemSize = descr.Groups[1].Value switch
        {
            "|u1" or "|i1" or "|b1" => 1,
            "<f4" or "<i4" or "<u4" => 4,
            "<f8" or "<i8" or "<u8" => 8,
            var other => throw Bad(path, $"its dtype '{other}' is not read (little-endian numbers and bytes are)"),
        };
        var shape = shapeText.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        var count = shape.Aggregate(1L, (a, b) => a * b) * itemSize;
        var offset = start + headerLength;
        if (bytes.Length - offset != count) throw Bad(path, $"it should hold {count} bytes of data, not {bytes.Length - offset}");
        return new NpyArray(descr.Groups[1].Value, shape, bytes[offset..]);
    }

    /// <summary>A uint8 array (the committed background sets).</summary>
    public static (byte[] Data, int[] Shape) ReadBytes(string path)
    {
        var array = Read(path);
        if (array.Descr != "|u1") throw Bad(path, $"it holds '{array.Descr}', and a uint8 ('|u1') array is needed");
        return (array.Data, array.Shape);
    }

    /// <summary>A float32 array (what the explainers export).</summary>
    public static (float[] Data, int[] Shape) ReadFloats(string path)
    {
        var array = Read(path);
        if (array.Descr != "<f4") throw Bad(path, $"it holds '{array.Descr}', and a float32 ('<f4') array is needed");
        return (array.Floats(), array.Shape);
    }

    private static CnnInterpretException Bad(string path, string why) =>
        new(ErrorKind.BadModelFile, $"Cannot read '{path}': {why}. Restore it from the repository (or rerun the script next to it).");

    [GeneratedRegex(@"'descr':\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
