using System.Buffers.Binary;

namespace CnnInterpret.Core.Imaging;

/// <summary>
/// Checks that an image file is whole before it is decoded. ImageSharp 2.1 decodes a truncated JPEG, PNG,
/// GIF, WebP or BMP without complaint and leaves the missing part blank, which would silently explain a
/// half-empty picture; each format's own structure tells whether the file is complete.
/// </summary>
public static class ImageCompleteness
{
    /// <summary>Null when the file looks complete, else why it is not.</summary>
    public static string? Problem(ReadOnlySpan<byte> bytes, string format) => format.ToUpperInvariant() switch
    {
        "PNG" => Png(bytes),
        "JPEG" => Jpeg(bytes),
        "GIF" => Gif(bytes),
        "WEBP" => WebP(bytes),
        "BMP" => Bmp(bytes),
        _ => null,
    };

    private static string? Png(ReadOnlySpan<byte> bytes)
    {
        var position = 8L;
        while (position + 12 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(bytes[(int)position..]);
            var type = bytes.Slice((int)position + 4, 4);
            position += 12L + length;
            if (position > bytes.Length) return "a PNG chunk runs past the end of the file";
            if (type.SequenceEqual("IEND"u8)) return null;
        }
        return "the PNG has no IEND chunk";
    }

    private static string? Jpeg(ReadOnlySpan<byte> bytes)
    {
        // The entropy-coded data after start-of-scan never contains FF D9, so the image is whole only if an
        // end-of-image marker follows the first scan.
        var scan = bytes.IndexOf([(byte)0xFF, (byte)0xDA]);
        if (scan < 0) return "the JPEG has no image data (no start-of-scan marker)";
        return bytes[scan..].IndexOf([(byte)0xFF, (byte)0xD9]) < 0 ? "the JPEG has no end-of-image marker" : null;
    }

    private static string? Gif(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.Length - 1;
        while (end > 0 && bytes[end] == 0) end--; // some writers pad after the trailer
        return bytes[end] == 0x3B ? null : "the GIF has no trailer";
    }

    private static string? WebP(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 12) return "the WebP header is cut short";
        var riffSize = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        return riffSize + 8L > bytes.Length ? "the WebP file is shorter than its header says" : null;
    }

    private static string? Bmp(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 34) return "the BMP header is cut short";
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(bytes[10..]);
        var headerSize = BinaryPrimitives.ReadUInt32LittleEndian(bytes[14..]);
        if (headerSize < 40) return null; // old OS/2 headers: leave it to the decoder
        var width = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bytes[18..]));
        var height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bytes[22..]));
        var bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(bytes[28..]);
        var compression = BinaryPrimitives.ReadUInt32LittleEndian(bytes[30..]);
        if (compression is not (0 or 3)) return null; // run-length encoded: its size is not fixed
        var rowBytes = (width * bitsPerPixel + 31) / 32 * 4;
        return offset + rowBytes * height > bytes.Length ? "the BMP's pixel data is cut short" : null;
    }
}
