using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.GradCam;

/// <summary>The overlay is (1 − opacity)·picture + opacity·colour, enlarged by a whole factor with true pixels.</summary>
public sealed class OverlayTests
{
    private static Image<Rgb24> Picture()
    {
        var image = new Image<Rgb24>(3, 2);
        for (var y = 0; y < 2; y++)
            for (var x = 0; x < 3; x++) image[x, y] = new Rgb24((byte)(40 * x), (byte)(100 * y), 200);
        return image;
    }

    private static readonly float[] Map = [0, 0.2f, 0.4f, 0.6f, 0.8f, 1];

    [Fact]
    public void Blends_picture_and_colour_by_opacity()
    {
        using var picture = Picture();
        using var blended = Overlay.Blend(picture, Map, 2, 3, new OverlayOptions("gray", 0.25, MinSize: 1));
        Assert.Equal((3, 2), (blended.Width, blended.Height));
        for (var i = 0; i < 6; i++)
        {
            var (x, y) = (i % 3, i / 3);
            var gray = Colormap.Gray.Map(Map[i]).R;
            var p = picture[x, y];
            Assert.Equal(new Rgb24((byte)Math.Round(0.75 * p.R + 0.25 * gray), (byte)Math.Round(0.75 * p.G + 0.25 * gray), (byte)Math.Round(0.75 * p.B + 0.25 * gray)), blended[x, y]);
        }
        using var opaque = Overlay.Blend(picture, Map, 2, 3, new OverlayOptions("viridis", 1, MinSize: 1));
        Assert.Equal(Colormap.Viridis.Map(0.6), opaque[0, 1]);
    }

    [Fact]
    public void Enlarges_by_a_whole_factor_with_nearest_neighbour()
    {
        using var heatmap = Overlay.Heatmap(Map, 2, 3, new OverlayOptions("gray", MinSize: 10));
        Assert.Equal((12, 8), (heatmap.Width, heatmap.Height)); // factor ceil(10 / 3) = 4
        for (var y = 0; y < 8; y++)
            for (var x = 0; x < 12; x++)
                Assert.Equal(Colormap.Gray.Map(Map[y / 4 * 3 + x / 4]), heatmap[x, y]);
    }

    [Fact]
    public void Refuses_a_bad_opacity_or_colormap()
    {
        using var picture = Picture();
        Assert.Contains("between 0 and 1", Assert.Throws<CnnInterpretException>(() => Overlay.Blend(picture, Map, 2, 3, new OverlayOptions(Opacity: 1.5))).Message);
        Assert.Contains("viridis, gray", Assert.Throws<CnnInterpretException>(() => Overlay.Heatmap(Map, 2, 3, new OverlayOptions("plasma"))).Message);
    }
}
