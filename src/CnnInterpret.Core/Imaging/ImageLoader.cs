using System.Security.Cryptography;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CnnInterpret.Core.Imaging;

/// <summary>Limits applied before any pixel is decoded.</summary>
/// <param name="MaxPixels">
/// Largest width×height accepted (default 100 megapixels: the 48–50 MP photos of today's phones and 61 MP of
/// full-frame cameras pass; decoding one takes about 3 bytes a pixel).
/// </param>
/// <param name="MaxFileBytes">Largest file accepted (default 200 MiB).</param>
public sealed record ImageLimits(long MaxPixels = ImageLimits.DefaultMaxPixels, long MaxFileBytes = 200L * 1024 * 1024)
{
    public const long DefaultMaxPixels = 100_000_000;
    public const string MaxPixelsVariable = "CNN_INTERPRET_MAX_PIXELS";

    public static readonly ImageLimits Default = new();

    /// <summary>The limits with <paramref name="maxPixels"/>, else the environment's CNN_INTERPRET_MAX_PIXELS, else the default.</summary>
    public static ImageLimits Configured(long? maxPixels = null)
    {
        var text = Environment.GetEnvironmentVariable(MaxPixelsVariable);
        if (maxPixels is null && !string.IsNullOrWhiteSpace(text))
        {
            if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                throw new CnnInterpretException(ErrorKind.InvalidArgument, $"{MaxPixelsVariable} must be a whole number of pixels, not '{text}'.");
            maxPixels = parsed;
        }
        return maxPixels switch
        {
            null => Default,
            < 1 => throw new CnnInterpretException(ErrorKind.InvalidArgument, $"The pixel limit must be at least 1, not {maxPixels}."),
            _ => new ImageLimits(maxPixels.Value),
        };
    }
}

/// <summary>A decoded, upright, opaque RGB image and the hash of the file it came from.</summary>
public sealed class DecodedImage(Image<Rgb24> pixels, string contentHash, string format) : IDisposable
{
    public Image<Rgb24> Pixels { get; } = pixels;

    /// <summary>sha256 of the file's bytes: the image's identity in caches.</summary>
    public string ContentHash { get; } = contentHash;

    public string Format { get; } = format;
    public int Width => Pixels.Width;
    public int Height => Pixels.Height;
    public void Dispose() => Pixels.Dispose();
}

/// <summary>
/// Decodes PNG, JPEG, BMP, GIF (first frame), WebP, TIFF, TGA and PBM with ImageSharp 2.1, applies the
/// EXIF orientation and composites transparency over a background. Header dimensions are checked
/// against <see cref="ImageLimits"/> before decoding, so a decompression bomb is refused cheaply.
/// </summary>
public static class ImageLoader
{
    public static DecodedImage Load(string path, ImageLimits? limits = null, int[]? background = null)
    {
        limits ??= ImageLimits.Default;
        return Decode(ReadFile(path, limits), path, limits, background);
    }

    /// <summary>Reads an image file's bytes after checking it exists, is not empty and is within the size limit.</summary>
    public static byte[] ReadFile(string path, ImageLimits limits)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw Bad("No image was given. Pass the path of a PNG, JPEG, BMP, GIF or WebP file.");
        InputText.RequirePath(path, ErrorKind.BadImage, "image");
        var file = new FileInfo(path);
        if (!file.Exists)
            throw Bad($"The image '{path}' does not exist. Check the path{(Path.IsPathRooted(path) ? "" : $" (relative to {Environment.CurrentDirectory})")}.");
        if (file.Length == 0)
            throw Bad($"The image '{path}' is empty (0 bytes). Choose a PNG, JPEG, BMP, GIF or WebP file.");
        if (file.Length > limits.MaxFileBytes)
            throw Bad($"The image '{path}' is {file.Length / (1024 * 1024)} MiB, over the {limits.MaxFileBytes / (1024 * 1024)} MiB limit. Downscale it first.");
        return File.ReadAllBytes(path);
    }

    /// <param name="contentHash">The bytes' sha256 (lowercase hex) when the caller has already computed it (a cache key): not hashed again.</param>
    public static DecodedImage Decode(byte[] bytes, string name, ImageLimits? limits = null, int[]? background = null, string? contentHash = null)
    {
        limits ??= ImageLimits.Default;
        IImageInfo? info;
        IImageFormat? format;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            info = Image.Identify(stream, out format);
        }
        catch (OutOfMemoryException e)
        {
            // Identify reads headers only, so running out of memory here means a header that declares an absurd size
            // (a BMP asking for a four-billion-entry palette, say), not a machine that is short of memory.
            throw Bad($"The image '{name}' has a damaged header (it declares an impossible size). Re-export or re-download it.", e);
        }
        catch (Exception e)
        {
            throw Bad($"The image '{name}' is damaged or truncated{Why(e)}. Re-export or re-download it.", e);
        }
        if (info is null || format is null)
            throw Bad($"'{name}' is not an image this tool can read. Supported: PNG, JPEG, BMP, GIF, WebP, TIFF, TGA, PBM.");
        var pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
            throw Bad($"The image '{name}' declares an empty size ({info.Width}×{info.Height}): its header is damaged. Re-export or re-download it.");
        if (pixels > limits.MaxPixels)
            throw Bad($"The image '{name}' declares {info.Width}×{info.Height} = {pixels:N0} pixels, over the limit of {limits.MaxPixels:N0}. Downscale it first, or raise the limit (--max-pixels N, the environment variable {ImageLimits.MaxPixelsVariable}, or the extension's setting cnnInterpret.maxImagePixels).",
                details: new { width = info.Width, height = info.Height, maxPixels = limits.MaxPixels });

        if (ImageCompleteness.Problem(bytes, format.Name) is { } problem)
            throw Bad($"The image '{name}' is incomplete: {problem}. The file is probably truncated (an interrupted download or copy): re-export or re-download it.");
        if (background is not null && (background.Length != 3 || background.Any(v => v is < 0 or > 255)))
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"The model's background colour [{string.Join(", ", background)}] must be three values from 0 to 255; fix \"background\" in its preprocessing.");

        Image<Rgba32> image;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            image = format is GifFormat
                ? Image.Load<Rgba32>(stream, new GifDecoder { DecodingMode = FrameDecodingMode.First })
                : Image.Load<Rgba32>(stream);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw Bad($"The image '{name}' could not be decoded{Why(e)}. It is probably truncated or damaged: re-export or re-download it.", e);
        }

        using (image)
        {
            while (image.Frames.Count > 1) image.Frames.RemoveFrame(image.Frames.Count - 1);
            image.Mutate(x => x.AutoOrient());
            var rgb = Flatten(image, background ?? [255, 255, 255]);
            return new DecodedImage(rgb, contentHash ?? Convert.ToHexStringLower(SHA256.HashData(bytes)), format.Name);
        }
    }

    /// <summary>Composites alpha over <paramref name="background"/> (copying alpha-less pixels as they are).</summary>
    private static Image<Rgb24> Flatten(Image<Rgba32> image, int[] background)
    {
        var rgb = new Image<Rgb24>(image.Width, image.Height);
        image.ProcessPixelRows(rgb, (source, target) =>
        {
            for (var y = 0; y < source.Height; y++)
            {
                var from = source.GetRowSpan(y);
                var to = target.GetRowSpan(y);
                for (var x = 0; x < from.Length; x++)
                {
                    var p = from[x];
                    int a = p.A, na = 255 - a;
                    to[x] = new Rgb24(
                        (byte)((p.R * a + background[0] * na + 127) / 255),
                        (byte)((p.G * a + background[1] * na + 127) / 255),
                        (byte)((p.B * a + background[2] * na + 127) / 255));
                }
            }
        });
        return rgb;
    }

    /// <summary>
    /// ImageSharp's own complaints name the problem ("PNG: missing IDAT"); anything else, such as a null reference deep
    /// in a decoder that met bytes it did not expect, would only confuse: the message then says just that it failed.
    /// </summary>
    private static string Why(Exception e) => e is ImageFormatException ? $" ({e.Message.TrimEnd('.')})" : "";

    private static CnnInterpretException Bad(string message, Exception? inner = null, object? details = null) =>
        new(ErrorKind.BadImage, message, details, inner);
}
