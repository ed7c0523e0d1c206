using System.Text;
using System.Text.RegularExpressions;

namespace CnnInterpret.Tests.GradCam;

/// <summary>Reads the little-endian float32 C-order .npy files the fixture scripts write (numpy format 1.0).</summary>
internal static partial class Npy
{
    public static (float[] Data, int[] Shape) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY") throw new InvalidDataException($"{path} is not an .npy file");
        var headerLength = bytes[8] | bytes[9] << 8;
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        if (!header.Contains("'descr': '<f4'") || !header.Contains("'fortran_order': False")) throw new InvalidDataException($"{path}: expected little-endian float32 in C order, got {header}");
        var shape = ShapePattern().Match(header).Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        Buffer.BlockCopy(bytes, 10 + headerLength, data, 0, data.Length * 4);
        return (data, shape);
    }

    [GeneratedRegex(@"'shape': \(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
