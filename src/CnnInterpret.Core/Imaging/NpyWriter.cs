using System.Runtime.InteropServices;
using System.Text;

namespace CnnInterpret.Core.Imaging;

/// <summary>
/// Writes numpy's .npy format (version 1.0, little-endian, C order) so every numeric result can be
/// opened with <c>numpy.load</c>.
/// </summary>
public static class NpyWriter
{
    public static void Write(string path, ReadOnlySpan<float> data, IReadOnlyList<int> shape) =>
        Write(path, MemoryMarshal.AsBytes(data), "<f4", data.Length, shape);

    public static void Write(string path, ReadOnlySpan<int> data, IReadOnlyList<int> shape) =>
        Write(path, MemoryMarshal.AsBytes(data), "<i4", data.Length, shape);

    public static byte[] Header(string descr, IReadOnlyList<int> shape)
    {
        var dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        // magic (6) + version (2) + header length (2) + dict + padding + '\n' must be a multiple of 64.
        var total = (10 + dict.Length + 1 + 63) / 64 * 64;
        var header = dict.PadRight(total - 10 - 1) + "\n";
        var bytes = new byte[total];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY", bytes.AsSpan(1));
        bytes[6] = 1;
        bytes[7] = 0;
        bytes[8] = (byte)(header.Length & 0xff);
        bytes[9] = (byte)(header.Length >> 8);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        return bytes;
    }

    private static void Write(string path, ReadOnlySpan<byte> payload, string descr, int count, IReadOnlyList<int> shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != count)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] does not hold {count} values.", nameof(shape));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The .npy writer assumes a little-endian machine.");
        using var stream = File.Create(path);
        stream.Write(Header(descr, shape));
        stream.Write(payload);
    }
}
