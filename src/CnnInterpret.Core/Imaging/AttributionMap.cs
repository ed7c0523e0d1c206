using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

/// <summary>
/// Signed attribution maps (LIME weights, SHAP values) over a muted copy of the picture: red where a region
/// raises the score, blue where it lowers it, opacity growing with |value|, as shap's image_plot colours them.
/// Several maps are drawn side by side after the picture with ONE symmetric scale [−limit, +limit], so two
/// classes can be compared; the legend under them gives the limit.
/// </summary>
public static class AttributionMap
{
    private const int Gap = 4, Margin = 4, LegendBar = 10, TextScale = 2;
    private static readonly Rgb24 Background = new(30, 30, 30), Text = new(220, 220, 220);
    public static readonly Rgb24 Positive = new(255, 0, 81), Negative = new(0, 139, 251);

    /// <summary>The shared limit: the largest |value| over all maps (1 when every value is 0).</summary>
    public static double Limit(IEnumerable<float[]> maps)
    {
        var max = maps.SelectMany(m => m).Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max();
        return max > 0 ? max : 1;
    }

    /// <param name="picture">The picture the model saw, H×W.</param>
    /// <param name="maps">Each [mapHeight, mapWidth] row-major; a map at another resolution than the picture (an inner layer) is sampled bilinearly.</param>
    /// <param name="labels">When given ([H,W] segment ids), segment boundaries are drawn faintly over every map.</param>
    public static Image<Rgb24> Render(Image<Rgb24> picture, IReadOnlyList<float[]> maps, int mapHeight, int mapWidth, double? limit = null,
        int[]? labels = null, bool withPicture = true)
    {
        int h = picture.Height, w = picture.Width, scale = SegmentBoundaries.Scale(h, w), cellW = w * scale, cellH = h * scale;
        var panels = maps.Count + (withPicture ? 1 : 0);
        var legendH = Gap * 3 + LegendBar + BitmapFont.GlyphHeight * TextScale;
        var image = new Image<Rgb24>(panels * cellW + (panels - 1) * Gap + 2 * Margin, cellH + 2 * Margin + legendH, Background);
        var scaleLimit = limit ?? Limit(maps);
        var left = Margin;
        if (withPicture)
        {
            for (var y = 0; y < cellH; y++)
                for (var x = 0; x < cellW; x++) image[left + x, Margin + y] = picture[x / scale, y / scale];
            left += cellW + Gap;
        }
        foreach (var map in maps)
        {
            for (var y = 0; y < cellH; y++)
                for (var x = 0; x < cellW; x++)
                {
                    int sx = x / scale, sy = y / scale;
                    var value = mapHeight == h && mapWidth == w ? map[sy * w + sx] : Sample(map, mapHeight, mapWidth, (y + 0.5) / cellH, (x + 0.5) / cellW);
                    var edge = labels is not null
                               && ((x + 1 < cellW && labels[sy * w + (x + 1) / scale] != labels[sy * w + sx])
                                   || (y + 1 < cellH && labels[(y + 1) / scale * w + sx] != labels[sy * w + sx]));
                    var colour = Colour(picture[sx, sy], value / scaleLimit);
                    image[left + x, Margin + y] = edge ? Blend(colour, SegmentBoundaries.Line, 0.35) : colour;
                }
            left += cellW + Gap;
        }

        // Legend: blue (−limit) … muted gray (0) … red (+limit).
        var barTop = Margin + cellH + Gap * 2;
        var barW = Math.Min(256, image.Width - 2 * Margin);
        for (var x = 0; x < barW; x++)
            BitmapFont.Fill(image, Margin + x, barTop, 1, LegendBar, Colour(new Rgb24(128, 128, 128), 2.0 * x / (barW - 1) - 1));
        var textTop = barTop + LegendBar + Gap;
        var low = BitmapFont.Format(-scaleLimit);
        var high = "+" + BitmapFont.Format(scaleLimit);
        BitmapFont.Draw(image, low, Margin, textTop, TextScale, Text);
        BitmapFont.Draw(image, "0", Margin + barW / 2 - BitmapFont.Measure("0", TextScale) / 2, textTop, TextScale, Text);
        BitmapFont.Draw(image, high, Margin + barW - BitmapFont.Measure(high, TextScale), textTop, TextScale, Text);
        return image;
    }

    /// <summary>The colour for a value t in [−1, 1] over a picture pixel.</summary>
    public static Rgb24 Colour(Rgb24 pixel, double t)
    {
        if (double.IsNaN(t)) t = 0;
        var gray = (0.299 * pixel.R + 0.587 * pixel.G + 0.114 * pixel.B) * 0.5 + 40;
        var muted = new Rgb24((byte)gray, (byte)gray, (byte)gray);
        return Blend(muted, t >= 0 ? Positive : Negative, Math.Min(1, Math.Abs(t)) * 0.9);
    }

    private static Rgb24 Blend(Rgb24 a, Rgb24 b, double alpha) => new(
        (byte)Math.Round(a.R + (b.R - a.R) * alpha), (byte)Math.Round(a.G + (b.G - a.G) * alpha), (byte)Math.Round(a.B + (b.B - a.B) * alpha));

    /// <summary>An [h,w] map at <paramref name="height"/>×<paramref name="width"/>, sampled as <see cref="Render"/> draws it.</summary>
    public static float[] Upsample(float[] map, int h, int w, int height, int width)
    {
        var upsampled = new float[height * width];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++) upsampled[y * width + x] = Sample(map, h, w, (y + 0.5) / height, (x + 0.5) / width);
        return upsampled;
    }

    /// <summary>Bilinear sample of an [h,w] map at (v, u) in [0,1]² (pixel centres, edges clamped).</summary>
    private static float Sample(float[] map, int h, int w, double v, double u)
    {
        double y = Math.Clamp(v * h - 0.5, 0, h - 1), x = Math.Clamp(u * w - 0.5, 0, w - 1);
        int y0 = (int)y, x0 = (int)x, y1 = Math.Min(h - 1, y0 + 1), x1 = Math.Min(w - 1, x0 + 1);
        double fy = y - y0, fx = x - x0;
        return (float)((map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx) * (1 - fy) + (map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx) * fy);
    }
}
