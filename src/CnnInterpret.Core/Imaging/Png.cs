using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

/// <summary>
/// Writes 8-bit RGB PNGs: every row with the "Up" filter (the difference to the row above, so the repeated rows of an
/// enlarged map are all zeros) and deflated by .NET's native zlib at its fastest level. ImageSharp's encoder, with its
/// managed deflate and per-row filter search, took about 1 ms for one 224×224 overlay, longer than fashion-vgg's whole
/// decode, forward and backward for Grad-CAM; this takes about 0.1 ms. The pixels are the same; the file is a little larger.
/// </summary>
public static class Png
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] CrcTable = MakeCrcTable();

    /// <summary>The PNG of <paramref name="image"/>.</summary>
    public static byte[] Encode(Image<Rgb24> image)
    {
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return Encode(pixels, image.Width, image.Height);
    }

    /// <summary>
    /// The PNG of <paramref name="pixels"/> [height·width, row-major], each pixel drawn as a
    /// <paramref name="scale"/>×<paramref name="scale"/> block (nearest neighbour, as <see cref="Overlay.Enlarged"/>),
    /// without making the enlarged picture first.
    /// </summary>
    // Optimised from the first call (here and in the loops below): a daemon writes a few PNGs per click, so tiered
    // compilation would run these loops unoptimised for the first thirty or so.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] Encode(ReadOnlySpan<Rgb24> pixels, int width, int height, int scale = 1)
    {
        if (width <= 0 || height <= 0 || scale <= 0 || pixels.Length != width * height)
            throw new ArgumentException($"{pixels.Length} pixels do not make a {width}×{height} picture (scale {scale}).", nameof(pixels));
        var rowPixels = width * scale;
        var row = new Rgb24[rowPixels];
        var above = new Rgb24[rowPixels]; // the row above the first counts as zeros
        var filtered = new byte[1 + 3 * rowPixels];
        var repeated = new byte[filtered.Length]; // a row equal to the one above: Up, all zeros
        filtered[0] = repeated[0] = 2; // the Up filter
        using var deflated = new MemoryStream();
        using (var zlib = new ZLibStream(deflated, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                var source = pixels.Slice(y * width, width);
                if (scale == 1) source.CopyTo(row);
                else
                    for (var x = 0; x < width; x++) row.AsSpan(x * scale, scale).Fill(source[x]);
                Subtract(MemoryMarshal.AsBytes(row.AsSpan()), MemoryMarshal.AsBytes(above.AsSpan()), filtered.AsSpan(1));
                zlib.Write(filtered);
                for (var copy = 1; copy < scale; copy++) zlib.Write(repeated);
                (row, above) = (above, row);
            }
        }

        using var png = new MemoryStream((int)deflated.Length + 64);
        png.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width * scale);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height * scale);
        header[8] = 8; // bits per sample
        header[9] = 2; // colour type: RGB
        header[10] = header[11] = header[12] = 0; // deflate, adaptive filtering, not interlaced
        WriteChunk(png, "IHDR"u8, header);
        WriteChunk(png, "IDAT"u8, deflated.GetBuffer().AsSpan(0, (int)deflated.Length));
        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    /// <summary><paramref name="difference"/> = <paramref name="row"/> − <paramref name="above"/>, byte by byte (wrapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Subtract(ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, Span<byte> difference)
    {
        var i = 0;
        for (; i <= row.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            (new Vector<byte>(row[i..]) - new Vector<byte>(above[i..])).CopyTo(difference[i..]);
        for (; i < row.Length; i++) difference[i] = (byte)(row[i] - above[i]);
    }

    private static void WriteChunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        png.Write(type);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(number, ~Crc(Crc(uint.MaxValue, type), data));
        png.Write(number);
    }

    /// <summary>PNG's CRC-32 (ISO 3309, the polynomial 0xEDB88320 reflected), over the chunk's type and data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint Crc(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
