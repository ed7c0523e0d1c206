using CnnInterpret.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.Imaging;

/// <summary>Our PNG writer, read back by ImageSharp's decoder (which checks every chunk's CRC): the same pixels, enlarged by whole factors.</summary>
public sealed class PngTests
{
    private static Rgb24[] Pixels(int width, int height, int seed)
    {
        var random = new Random(seed);
        var pixels = new Rgb24[width * height];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
        return pixels;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 2, 4)] // rows shorter than a vector
    [InlineData(37, 5, 1)] // a row length that is no multiple of the vector width
    [InlineData(28, 28, 8)] // fashion-vgg's map at the overlay's 224 pixels
    public void Decodes_to_the_same_pixels_each_drawn_scale_times(int width, int height, int scale)
    {
        var pixels = Pixels(width, height, seed: width * 31 + height);
        using var decoded = Image.Load<Rgb24>(Png.Encode(pixels, width, height, scale));
        Assert.Equal((width * scale, height * scale), (decoded.Width, decoded.Height));
        for (var y = 0; y < decoded.Height; y++)
            for (var x = 0; x < decoded.Width; x++)
                Assert.Equal(pixels[y / scale * width + x / scale], decoded[x, y]);
    }

    [Fact]
    public void An_image_and_the_overlays_round_trip()
    {
        using var picture = Image.LoadPixelData<Rgb24>(Pixels(30, 20, seed: 7), 30, 20);
        using (var back = Image.Load<Rgb24>(Png.Encode(picture)))
            for (var y = 0; y < 20; y++)
                for (var x = 0; x < 30; x++) Assert.Equal(picture[x, y], back[x, y]);

        // The PNGs written straight from the small picture hold what Blend and Heatmap enlarge (factor ceil(100 / 30) = 4).
        var map = Enumerable.Range(0, 600).Select(i => i / 599f).ToArray();
        var options = new OverlayOptions("viridis", 0.4, MinSize: 100);
        using var blended = Overlay.Blend(picture, map, 20, 30, options);
        using var blendedPng = Image.Load<Rgb24>(Overlay.BlendPng(picture, map, 20, 30, options));
        using var heatmap = Overlay.Heatmap(map, 20, 30, options);
        using var heatmapPng = Image.Load<Rgb24>(Overlay.HeatmapPng(map, 20, 30, options));
        Assert.Equal((120, 80), (blendedPng.Width, blendedPng.Height));
        Assert.Equal((120, 80), (heatmapPng.Width, heatmapPng.Height));
        for (var y = 0; y < 80; y++)
            for (var x = 0; x < 120; x++)
            {
                Assert.Equal(blended[x, y], blendedPng[x, y]);
                Assert.Equal(heatmap[x, y], heatmapPng[x, y]);
            }
    }

    [Fact]
    public void Refuses_pixels_that_do_not_fill_the_picture() =>
        Assert.Throws<ArgumentException>(() => Png.Encode(new Rgb24[5], 2, 3));
}
