using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing.Processors.Quantization;

namespace CnnInterpret.Tests.Imaging;

/// <summary>A per-test temporary folder, deleted afterwards, and small helpers shared by the imaging tests.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cnninterpret-imaging-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Save<TPixel>(Image<TPixel> image, string name, IImageEncoder encoder) where TPixel : unmanaged, IPixel<TPixel>
    {
        var path = File(name);
        image.Save(path, encoder);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class PngBytes
{
    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>The CRC-32 PNG uses (ISO 3309 / zlib).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    public static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Chunk(string type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    public static byte[] Ihdr(int width, int height, byte bitDepth = 8, byte colorType = 2)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(data, width);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), height);
        data[8] = bitDepth;
        data[9] = colorType; // 2 = truecolour
        return Chunk("IHDR", data); // compression, filter, interlace = 0
    }
}

public sealed class ImageLoaderTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Rgba32 Red = new(255, 0, 0, 255), Blue = new(0, 0, 255, 255);

    private static void AssertPixel(DecodedImage image, int x, int y, byte r, byte g, byte b, int tolerance = 0)
    {
        var p = image.Pixels[x, y];
        Assert.True(Math.Abs(p.R - r) <= tolerance && Math.Abs(p.G - g) <= tolerance && Math.Abs(p.B - b) <= tolerance,
            $"pixel ({x},{y}) is ({p.R},{p.G},{p.B}), expected ({r},{g},{b}) ±{tolerance}");
    }

    private static void AssertAll(DecodedImage image, byte r, byte g, byte b, int tolerance = 0)
    {
        for (var y = 0; y < image.Height; y++)
            for (var x = 0; x < image.Width; x++)
                AssertPixel(image, x, y, r, g, b, tolerance);
    }

    private static CnnInterpretException AssertBadImage(Action action)
    {
        var e = Record.Exception(action);
        Assert.NotNull(e);
        var cie = Assert.IsType<CnnInterpretException>(e);
        Assert.Equal(ErrorKind.BadImage, cie.Kind);
        Assert.False(string.IsNullOrWhiteSpace(cie.Message));
        return cie;
    }

    /// <summary>A 16×8 image: the left half red, the right half blue (blocks aligned to JPEG's 8×8).</summary>
    private static Image<Rgba32> RedLeftBlueRight(int width = 16, int height = 8)
    {
        var image = new Image<Rgba32>(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                image[x, y] = x < width / 2 ? Red : Blue;
        return image;
    }

    // ---------------------------------------------------------------- formats

    [Fact]
    public void Png_DecodesExactSizeAndColours()
    {
        using var source = new Image<Rgba32>(5, 3, new Rgba32(10, 200, 30, 255));
        source[4, 2] = new Rgba32(1, 2, 3, 255);
        var path = _dir.Save(source, "a.png", new PngEncoder());

        using var image = ImageLoader.Load(path);
        Assert.Equal(5, image.Width);
        Assert.Equal(3, image.Height);
        Assert.Equal("PNG", image.Format, ignoreCase: true);
        AssertPixel(image, 0, 0, 10, 200, 30);
        AssertPixel(image, 3, 2, 10, 200, 30);
        AssertPixel(image, 4, 2, 1, 2, 3);
    }

    [Fact]
    public void Jpeg_DecodesSizeAndColourWithinCompressionError()
    {
        using var source = RedLeftBlueRight(32, 16);
        var path = _dir.Save(source, "a.jpg", new JpegEncoder { Quality = 100, ColorType = JpegColorType.YCbCrRatio444 });

        using var image = ImageLoader.Load(path);
        Assert.Equal(32, image.Width);
        Assert.Equal(16, image.Height);
        Assert.Equal("JPEG", image.Format, ignoreCase: true);
        AssertPixel(image, 2, 2, 255, 0, 0, tolerance: 6);
        AssertPixel(image, 28, 12, 0, 0, 255, tolerance: 6);
    }

    [Fact]
    public void Bmp_DecodesExactSizeAndColours()
    {
        using var source = RedLeftBlueRight(6, 3);
        var path = _dir.Save(source, "a.bmp", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 });

        using var image = ImageLoader.Load(path);
        Assert.Equal(6, image.Width);
        Assert.Equal(3, image.Height);
        Assert.Equal("BMP", image.Format, ignoreCase: true);
        AssertPixel(image, 0, 0, 255, 0, 0);
        AssertPixel(image, 2, 2, 255, 0, 0);
        AssertPixel(image, 3, 0, 0, 0, 255);
        AssertPixel(image, 5, 2, 0, 0, 255);
    }

    [Fact]
    public void AnimatedGif_TakesTheFirstFrame()
    {
        using var source = new Image<Rgba32>(4, 3, Red);
        using (var blue = new Image<Rgba32>(4, 3, Blue))
            source.Frames.AddFrame(blue.Frames.RootFrame);
        var path = _dir.Save(source, "anim.gif", new GifEncoder());

        // The file really is animated, with a red first and a blue second frame.
        using (var check = Image.Load<Rgba32>(path))
        {
            Assert.Equal(2, check.Frames.Count);
            Assert.Equal(new Rgba32(0, 0, 255, 255), check.Frames[1][1, 1]);
        }

        using var image = ImageLoader.Load(path);
        Assert.Equal(4, image.Width);
        Assert.Equal(3, image.Height);
        Assert.Equal("GIF", image.Format, ignoreCase: true);
        AssertAll(image, 255, 0, 0);
    }

    [Fact]
    public void WebpLossless_DecodesExactSizeAndColours()
    {
        using var source = RedLeftBlueRight(8, 4);
        var path = _dir.Save(source, "a.webp", new WebpEncoder { FileFormat = WebpFileFormatType.Lossless });

        using var image = ImageLoader.Load(path);
        Assert.Equal(8, image.Width);
        Assert.Equal(4, image.Height);
        Assert.Equal("WEBP", image.Format, ignoreCase: true);
        AssertPixel(image, 0, 0, 255, 0, 0);
        AssertPixel(image, 3, 3, 255, 0, 0);
        AssertPixel(image, 4, 0, 0, 0, 255);
        AssertPixel(image, 7, 3, 0, 0, 255);
    }

    [Fact]
    public void WebpLossy_DecodesSizeAndColourApproximately()
    {
        using var source = new Image<Rgba32>(16, 16, new Rgba32(40, 160, 90, 255));
        var path = _dir.Save(source, "lossy.webp", new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = 100 });

        using var image = ImageLoader.Load(path);
        Assert.Equal(16, image.Width);
        Assert.Equal(16, image.Height);
        AssertPixel(image, 8, 8, 40, 160, 90, tolerance: 8);
    }

    [Fact]
    public void GrayscalePng_BecomesRgbWithEqualChannels()
    {
        using var source = new Image<L8>(3, 2);
        byte[] values = [0, 17, 100, 128, 200, 255];
        for (var i = 0; i < values.Length; i++) source[i % 3, i / 3] = new L8(values[i]);
        var path = _dir.Save(source, "gray.png", new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8 });
        Assert.Equal(0, File.ReadAllBytes(path)[25]); // IHDR colour type 0: really a grayscale PNG

        using var image = ImageLoader.Load(path);
        Assert.Equal(3, image.Width);
        Assert.Equal(2, image.Height);
        for (var i = 0; i < values.Length; i++)
            AssertPixel(image, i % 3, i / 3, values[i], values[i], values[i]);
    }

    [Fact]
    public void PalettePng_DecodesToPaletteColours()
    {
        Color[] palette = [Color.FromRgb(90, 90, 90), Color.FromRgb(250, 250, 250), Color.FromRgb(10, 20, 30)];
        using var source = new Image<Rgba32>(3, 1);
        for (var x = 0; x < 3; x++) source[x, 0] = palette[x].ToPixel<Rgba32>();
        var encoder = new PngEncoder
        {
            ColorType = PngColorType.Palette,
            BitDepth = PngBitDepth.Bit8,
            Quantizer = new PaletteQuantizer(palette, new QuantizerOptions { Dither = null }),
        };
        var path = _dir.Save(source, "palette.png", encoder);
        Assert.Equal(3, File.ReadAllBytes(path)[25]); // IHDR colour type 3: really a palette PNG

        using var image = ImageLoader.Load(path);
        AssertPixel(image, 0, 0, 90, 90, 90);
        AssertPixel(image, 1, 0, 250, 250, 250);
        AssertPixel(image, 2, 0, 10, 20, 30);
    }

    // ---------------------------------------------------------------- transparency

    private string TransparentPng()
    {
        using var source = new Image<Rgba32>(3, 1);
        source[0, 0] = new Rgba32(255, 0, 0, 0);     // fully transparent red
        source[1, 0] = new Rgba32(255, 0, 0, 128);   // half-transparent red
        source[2, 0] = new Rgba32(10, 20, 30, 255);  // opaque
        return _dir.Save(source, "alpha.png", new PngEncoder { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit8 });
    }

    [Fact]
    public void TransparentPixels_CompositeOverWhiteByDefault()
    {
        using var image = ImageLoader.Load(TransparentPng());
        AssertPixel(image, 0, 0, 255, 255, 255);
        // 255·128/255 + 255·127/255 = 255; 0·128/255 + 255·127/255 = 127.
        AssertPixel(image, 1, 0, 255, 127, 127);
        AssertPixel(image, 2, 0, 10, 20, 30);
    }

    [Fact]
    public void TransparentPixels_CompositeOverTheGivenBackground()
    {
        var path = TransparentPng();
        using (var black = ImageLoader.Load(path, background: [0, 0, 0]))
        {
            AssertPixel(black, 0, 0, 0, 0, 0);
            AssertPixel(black, 1, 0, 128, 0, 0); // 255·128/255 = 128
            AssertPixel(black, 2, 0, 10, 20, 30);
        }
        using (var teal = ImageLoader.Load(path, background: [0, 100, 200]))
        {
            AssertPixel(teal, 0, 0, 0, 100, 200);
            // (255·128 + 0·127)/255 = 128; (0 + 100·127)/255 = 49.8 → 50; (0 + 200·127)/255 = 99.6 → 100.
            AssertPixel(teal, 1, 0, 128, 50, 100);
        }
    }

    // ---------------------------------------------------------------- EXIF orientation

    [Fact]
    public void ExifOrientation6_Png_IsRotatedClockwise()
    {
        using var source = RedLeftBlueRight(2, 1);
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        var path = _dir.Save(source, "rot.png", new PngEncoder());

        // The orientation really is stored in the file.
        using (var check = Image.Load<Rgba32>(path))
            Assert.Equal((ushort)6, check.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value);

        using var image = ImageLoader.Load(path);
        // Rotating 90° clockwise maps source (x, y) to (H−1−y, x): the left (red) column becomes the top row.
        Assert.Equal(1, image.Width);
        Assert.Equal(2, image.Height);
        AssertPixel(image, 0, 0, 255, 0, 0);
        AssertPixel(image, 0, 1, 0, 0, 255);
    }

    [Fact]
    public void ExifOrientation6_Jpeg_IsRotatedClockwise()
    {
        using var source = RedLeftBlueRight(32, 16);
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        var path = _dir.Save(source, "rot.jpg", new JpegEncoder { Quality = 100, ColorType = JpegColorType.YCbCrRatio444 });

        using var image = ImageLoader.Load(path);
        Assert.Equal(16, image.Width);
        Assert.Equal(32, image.Height);
        AssertPixel(image, 8, 4, 255, 0, 0, tolerance: 6);  // top half red
        AssertPixel(image, 8, 28, 0, 0, 255, tolerance: 6); // bottom half blue
    }

    [Fact]
    public void ExifOrientation3_IsRotated180()
    {
        using var source = RedLeftBlueRight(2, 1);
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)3);
        var path = _dir.Save(source, "rot180.png", new PngEncoder());

        using var image = ImageLoader.Load(path);
        Assert.Equal(2, image.Width);
        Assert.Equal(1, image.Height);
        AssertPixel(image, 0, 0, 0, 0, 255);
        AssertPixel(image, 1, 0, 255, 0, 0);
    }

    // ---------------------------------------------------------------- limits

    [Fact]
    public void HugeDeclaredPng_HeaderOnly_IsRefusedWithoutAllocating()
    {
        var path = _dir.File("bomb.png");
        File.WriteAllBytes(path, [.. PngBytes.Signature, .. PngBytes.Ihdr(60000, 60000)]);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = AssertBadImage(() => ImageLoader.Load(path).Dispose());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("3,600,000,000", e.Message);       // the declared pixel count
        Assert.Contains("100,000,000", e.Message);         // the limit
        Assert.Contains("--max-pixels", e.Message);        // and how to raise it
        Assert.True(allocated < 32L * 1024 * 1024, $"refusing the header allocated {allocated:N0} bytes");
    }

    [Fact]
    public void The_pixel_limit_is_configurable_and_a_50_megapixel_photo_passes_the_default()
    {
        var path = _dir.File("photo.png");
        File.WriteAllBytes(path, [.. PngBytes.Signature, .. PngBytes.Ihdr(8192, 6144)]); // 50.3 MP, header only
        var e = AssertBadImage(() => ImageLoader.Load(path).Dispose());
        Assert.DoesNotContain("over the limit", e.Message); // refused for the missing pixel data, not its size

        var small = AssertBadImage(() => ImageLoader.Load(path, ImageLimits.Configured(1_000_000)).Dispose());
        Assert.Contains("over the limit of 1,000,000", small.Message);
        Assert.Throws<CnnInterpretException>(() => ImageLimits.Configured(0));
    }

    [Fact]
    public void HugeDeclaredPng_PatchedValidImage_IsRefused()
    {
        using var small = new Image<Rgb24>(2, 2, new Rgb24(1, 2, 3));
        using var stream = new MemoryStream();
        small.SaveAsPng(stream);
        var bytes = stream.ToArray();
        // IHDR data starts at 16 (8 signature + 4 length + 4 type); its CRC covers type + data (bytes 12..28).
        Assert.Equal("IHDR", Encoding.ASCII.GetString(bytes, 12, 4));
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), 60000);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), 60000);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), PngBytes.Crc32(bytes.AsSpan(12, 17)));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = AssertBadImage(() => ImageLoader.Decode(bytes, "bomb.png").Dispose());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("60000×60000", e.Message);
        Assert.Contains("3,600,000,000", e.Message);
        Assert.Contains("limit", e.Message);
        Assert.True(allocated < 32L * 1024 * 1024, $"refusing the header allocated {allocated:N0} bytes");
    }

    [Fact]
    public void SmallMaxPixels_RefusesA20x20Image_ButAcceptsItAtTheLimit()
    {
        using var source = new Image<Rgba32>(20, 20, Red);
        var path = _dir.Save(source, "20.png", new PngEncoder());

        var e = AssertBadImage(() => ImageLoader.Load(path, new ImageLimits(MaxPixels: 100)).Dispose());
        Assert.Contains("400", e.Message);
        Assert.Contains("100", e.Message);

        using var ok = ImageLoader.Load(path, new ImageLimits(MaxPixels: 400));
        Assert.Equal(20, ok.Width);
    }

    [Fact]
    public void FileOverMaxFileBytes_IsRefused()
    {
        using var source = new Image<Rgba32>(20, 20, Red);
        var path = _dir.Save(source, "20.png", new PngEncoder());
        AssertBadImage(() => ImageLoader.Load(path, new ImageLimits(MaxFileBytes: 10)).Dispose());
    }

    // ---------------------------------------------------------------- bad input

    [Fact]
    public void MissingFile_IsBadImage()
    {
        var e = AssertBadImage(() => ImageLoader.Load(_dir.File("nope.png")).Dispose());
        Assert.Contains("nope.png", e.Message);
    }

    [Fact]
    public void EmptyFile_IsBadImage()
    {
        var path = _dir.File("empty.png");
        File.WriteAllBytes(path, []);
        AssertBadImage(() => ImageLoader.Load(path).Dispose());
    }

    [Fact]
    public void TextFileNamedPng_IsBadImage()
    {
        var path = _dir.File("notes.png");
        File.WriteAllText(path, "This is not an image, just some text that happens to be named .png\n");
        AssertBadImage(() => ImageLoader.Load(path).Dispose());
    }

    [Fact]
    public void RandomBytes_AreBadImage()
    {
        var bytes = new byte[4096];
        new Random(12345).NextBytes(bytes);
        var path = _dir.File("random.jpg");
        File.WriteAllBytes(path, bytes);
        AssertBadImage(() => ImageLoader.Load(path).Dispose());
        AssertBadImage(() => ImageLoader.Decode(bytes, "random").Dispose());
    }

    [Fact]
    public void PngSignatureWithGarbage_IsBadImage()
    {
        var bytes = new byte[200];
        new Random(7).NextBytes(bytes);
        PngBytes.Signature.CopyTo(bytes, 0);
        AssertBadImage(() => ImageLoader.Decode(bytes, "garbage.png").Dispose());
    }

    private static byte[] Noise(int width, int height, IImageEncoder encoder)
    {
        var random = new Random(42);
        using var source = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                source[x, y] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
        using var stream = new MemoryStream();
        source.Save(stream, encoder);
        return stream.ToArray();
    }

    // ImageSharp 2.1 decodes truncated JPEG/BMP/GIF/WebP and multi-IDAT PNG files without an error (the missing
    // part comes out blank); ImageCompleteness refuses them before decoding.

    [Fact]
    public void TruncatedPng_SingleIdat_IsBadImage()
    {
        var bytes = Noise(64, 64, new PngEncoder()); // compresses to one IDAT chunk, cut in the middle
        var path = _dir.File("truncated.png");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = AssertBadImage(() => ImageLoader.Load(path).Dispose());
        Assert.Contains("truncated.png", e.Message);
    }

    [Fact]
    public void TruncatedPng_ManyIdatChunks_IsBadImage()
    {
        var bytes = Noise(400, 400, new PngEncoder()); // ~480 KB: several 64 KiB IDAT chunks
        AssertBadImage(() => ImageLoader.Decode(bytes[..(bytes.Length / 2)], "truncated.png").Dispose());
    }

    [Fact]
    public void TruncatedJpeg_IsBadImage()
    {
        var bytes = Noise(64, 64, new JpegEncoder { Quality = 90 });
        var path = _dir.File("truncated.jpg");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertBadImage(() => ImageLoader.Load(path).Dispose());
    }

    [Fact]
    public void JpegCutInsideItsHeaders_IsBadImage()
    {
        // 5% of the file ends inside the Huffman tables (DHT): refused at identification.
        var bytes = Noise(64, 64, new JpegEncoder { Quality = 90 });
        AssertBadImage(() => ImageLoader.Decode(bytes[..(bytes.Length / 20)], "short.jpg").Dispose());
    }

    public static TheoryData<string> Encoders => ["png", "png-large", "jpeg", "bmp", "gif", "webp-lossless", "webp-lossy"];

    private static IImageEncoder Encoder(string name) => name switch
    {
        "png" or "png-large" => new PngEncoder(),
        "jpeg" => new JpegEncoder { Quality = 90 },
        "bmp" => new BmpEncoder(),
        "gif" => new GifEncoder(),
        "webp-lossless" => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        _ => new WebpEncoder { FileFormat = WebpFileFormatType.Lossy },
    };

    [Theory]
    [MemberData(nameof(Encoders))]
    public void TruncatedFiles_EitherDecodeOrAreBadImage_NeverAnotherException(string format)
    {
        var size = format == "png-large" ? 400 : 64;
        var bytes = Noise(size, size, Encoder(format));
        foreach (var fraction in new[] { 0.02, 0.1, 0.25, 0.5, 0.75, 0.98 })
        {
            var cut = bytes[..Math.Max(1, (int)(bytes.Length * fraction))];
            var e = Record.Exception(() => ImageLoader.Decode(cut, $"cut.{format}").Dispose());
            if (e is not null)
                Assert.Equal(ErrorKind.BadImage, Assert.IsType<CnnInterpretException>(e).Kind);
        }
    }

    [Theory]
    [InlineData(8)]    // the signature only
    [InlineData(20)]   // inside IHDR
    [InlineData(33)]   // IHDR complete, nothing else
    public void PngCutShort_NeverThrowsAnotherExceptionType(int length)
    {
        var bytes = Noise(8, 8, new PngEncoder());
        AssertBadImage(() => ImageLoader.Decode(bytes[..length], "short.png").Dispose());
    }

    // ---------------------------------------------------------------- content hash

    [Fact]
    public void ContentHash_IsSha256OfTheFileBytes_AndStable()
    {
        using var source = new Image<Rgba32>(4, 4, new Rgba32(5, 6, 7, 255));
        var path = _dir.Save(source, "h.png", new PngEncoder());
        var expected = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

        using var first = ImageLoader.Load(path);
        using var second = ImageLoader.Load(path);
        Assert.Equal(expected, first.ContentHash);
        Assert.Equal(64, first.ContentHash.Length);
        Assert.Equal(first.ContentHash, second.ContentHash);

        // Same bytes under another name: same hash; one changed pixel: another hash.
        var copy = _dir.File("copy.png");
        File.Copy(path, copy);
        using (var third = ImageLoader.Load(copy)) Assert.Equal(expected, third.ContentHash);
        source[0, 0] = new Rgba32(5, 6, 8, 255);
        var changed = _dir.Save(source, "changed.png", new PngEncoder());
        using var fourth = ImageLoader.Load(changed);
        Assert.NotEqual(expected, fourth.ContentHash);
    }
}
