using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

/// <param name="Opacity">How much of the heatmap shows over the picture, 0–1 (pytorch-grad-cam's show_cam_on_image uses 0.5).</param>
/// <param name="MinSize">Small pictures are enlarged (nearest neighbour, so pixels stay true) to at least this many pixels on the longer side.</param>
public sealed record OverlayOptions(string Colormap = "viridis", double Opacity = 0.5, int MinSize = 224)
{
    /// <summary>Refuses an unknown colormap or an opacity outside 0–1, before any work is done.</summary>
    public OverlayOptions Validate()
    {
        Imaging.Colormap.Get(Colormap);
        if (Opacity is < 0 or > 1 || double.IsNaN(Opacity))
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Opacity must be between 0 and 1, not {Opacity}.");
        return this;
    }
}

/// <summary>Renders a [H,W] map in [0,1] as a heatmap, alone or blended over the picture the model saw.</summary>
public static class Overlay
{
    /// <summary>The picture with the colour-mapped heatmap blended over it: (1 − opacity)·pixel + opacity·colour.</summary>
    public static Image<Rgb24> Blend(Image<Rgb24> picture, ReadOnlySpan<float> heatmap, int height, int width, OverlayOptions? options = null)
    {
        options = (options ?? new OverlayOptions()).Validate();
        return Enlarged(Blended(picture, heatmap, height, width, options), height, width, options.MinSize);
    }

    /// <summary><see cref="Blend"/> as a PNG, written without making the enlarged picture.</summary>
    public static byte[] BlendPng(Image<Rgb24> picture, ReadOnlySpan<float> heatmap, int height, int width, OverlayOptions? options = null)
    {
        options = (options ?? new OverlayOptions()).Validate();
        return Png.Encode(Blended(picture, heatmap, height, width, options), width, height, Scale(height, width, options.MinSize));
    }

    /// <summary>The heatmap alone.</summary>
    public static Image<Rgb24> Heatmap(ReadOnlySpan<float> heatmap, int height, int width, OverlayOptions? options = null)
    {
        options = (options ?? new OverlayOptions()).Validate();
        return Enlarged(Coloured(heatmap, height, width, options), height, width, options.MinSize);
    }

    /// <summary><see cref="Heatmap"/> as a PNG, written without making the enlarged picture.</summary>
    public static byte[] HeatmapPng(ReadOnlySpan<float> heatmap, int height, int width, OverlayOptions? options = null)
    {
        options = (options ?? new OverlayOptions()).Validate();
        return Png.Encode(Coloured(heatmap, height, width, options), width, height, Scale(height, width, options.MinSize));
    }

    /// <summary>An image of <paramref name="pixels"/> [H·W], enlarged by a whole factor (nearest neighbour, so pixels stay true) until the longer side reaches <paramref name="minSize"/>.</summary>
    public static Image<Rgb24> Enlarged(Rgb24[] pixels, int height, int width, int minSize)
    {
        var scale = Scale(height, width, minSize);
        if (scale == 1) return Image.LoadPixelData<Rgb24>(pixels, width, height);
        var large = new Rgb24[height * scale * width * scale];
        var rowLength = width * scale;
        for (var y = 0; y < height; y++)
        {
            var row = large.AsSpan(y * scale * rowLength, rowLength);
            for (var x = 0; x < width; x++) row.Slice(x * scale, scale).Fill(pixels[y * width + x]);
            for (var copy = 1; copy < scale; copy++) row.CopyTo(large.AsSpan((y * scale + copy) * rowLength, rowLength));
        }
        return Image.LoadPixelData<Rgb24>(large, rowLength, height * scale);
    }

    /// <summary>The whole factor that brings the longer side to at least <paramref name="minSize"/>.</summary>
    private static int Scale(int height, int width, int minSize) => Math.Max(1, (int)Math.Ceiling((double)minSize / Math.Max(width, height)));

    private static Rgb24[] Blended(Image<Rgb24> picture, ReadOnlySpan<float> heatmap, int height, int width, OverlayOptions options)
    {
        if (picture.Width != width || picture.Height != height || heatmap.Length != height * width)
            throw new ArgumentException($"The picture is {picture.Width}×{picture.Height}, the heatmap {width}×{height} ({heatmap.Length} values).");
        var colormap = Colormap.Get(options.Colormap);
        var pixels = new Rgb24[height * width];
        picture.CopyPixelDataTo(pixels);
        var opacity = options.Opacity;
        for (var i = 0; i < pixels.Length; i++)
        {
            Rgb24 p = pixels[i], c = colormap.Map(heatmap[i]);
            pixels[i] = new Rgb24(Mix(p.R, c.R, opacity), Mix(p.G, c.G, opacity), Mix(p.B, c.B, opacity));
        }
        return pixels;
    }

    private static Rgb24[] Coloured(ReadOnlySpan<float> heatmap, int height, int width, OverlayOptions options)
    {
        var colormap = Colormap.Get(options.Colormap);
        var pixels = new Rgb24[height * width];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = colormap.Map(heatmap[i]);
        return pixels;
    }

    private static byte Mix(byte picture, byte colour, double opacity) => (byte)Math.Round((1 - opacity) * picture + opacity * colour);
}
