using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

public enum ChannelScaling
{
    /// <summary>Each channel stretched to its own min…max: shows every channel's pattern.</summary>
    PerChannel,

    /// <summary>One min…max for all channels shown: shows which channels are strongly active.</summary>
    Shared,
}

/// <param name="Columns">Cells per row; by default 16 for large layers (the original's 4×16 grid for 64 channels).</param>
/// <param name="MinCellSize">Small maps are enlarged (nearest neighbour, so pixels stay true) to at least this many pixels.</param>
public sealed record GridOptions(int? Columns = null, ChannelScaling Scaling = ChannelScaling.PerChannel, string Colormap = "viridis", int MinCellSize = 48);

/// <summary>
/// Where a grid's cells lie in its picture, in picture pixels: cell i's top-left corner is
/// (Left + (i mod Columns)·StepX, Top + ⌊i ÷ Columns⌋·StepY), and each map pixel is Scale×Scale picture pixels. What
/// the panel needs to tell which channel was clicked and to show one cell large.
/// </summary>
public sealed record GridLayout(int Columns, int Rows, int Left, int Top, int CellWidth, int CellHeight, int StepX, int StepY, int Scale);

/// <summary>Renders [N,H,W] maps as a grid of colour-mapped cells with a value legend underneath.</summary>
public static class ChannelGrid
{
    private const int Gap = 2, Margin = 4, LegendBar = 10, TextScale = 2;
    private static readonly Rgb24 Background = new(30, 30, 30), Text = new(220, 220, 220);

    public static int DefaultColumns(int count) => count <= 8 ? count : count <= 32 ? 8 : 16;

    public static Image<Rgb24> Render(ReadOnlySpan<float> maps, int count, int height, int width, GridOptions? options = null)
    {
        options ??= new GridOptions();
        if (count <= 0 || maps.Length != count * height * width)
            throw new ArgumentException($"Expected {count}×{height}×{width} values, got {maps.Length}.");
        var colormap = Colormap.Get(options.Colormap);
        var layout = Layout(count, height, width, options);
        int columns = layout.Columns, rows = layout.Rows, scale = layout.Scale, cellW = layout.CellWidth, cellH = layout.CellHeight;
        var gridW = columns * cellW + (columns - 1) * Gap;
        var legendH = Gap * 3 + LegendBar + BitmapFont.GlyphHeight * TextScale;
        var image = new Image<Rgb24>(Math.Max(gridW, 120) + 2 * Margin, rows * cellH + (rows - 1) * Gap + 2 * Margin + legendH, Background);

        var plane = height * width;
        var (sharedMin, sharedMax) = Range(maps);
        for (var c = 0; c < count; c++)
        {
            var values = maps.Slice(c * plane, plane);
            var (min, max) = options.Scaling == ChannelScaling.Shared ? (sharedMin, sharedMax) : Range(values);
            var span = max - min;
            int left = layout.Left + c % columns * layout.StepX, top = layout.Top + c / columns * layout.StepY;
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                    BitmapFont.Fill(image, left + x * scale, top + y * scale, scale, scale,
                        colormap.Map(span > 0 ? (values[y * width + x] - min) / span : 0));
        }

        // Legend: the colour bar and the values at its ends.
        var barTop = image.Height - legendH + Gap;
        var barW = Math.Min(256, image.Width - 2 * Margin);
        for (var x = 0; x < barW; x++)
            BitmapFont.Fill(image, Margin + x, barTop, 1, LegendBar, colormap.Map((double)x / (barW - 1)));
        var (low, high) = options.Scaling == ChannelScaling.Shared
            ? (BitmapFont.Format(sharedMin), BitmapFont.Format(sharedMax))
            : ("0", "1"); // per-channel: each cell spans its own min (0) to max (1)
        var textTop = barTop + LegendBar + Gap;
        BitmapFont.Draw(image, low, Margin, textTop, TextScale, Text);
        BitmapFont.Draw(image, high, Margin + barW - BitmapFont.Measure(high, TextScale), textTop, TextScale, Text);
        return image;
    }

    /// <summary>Where <see cref="Render"/> puts each of <paramref name="count"/> cells of <paramref name="height"/>×<paramref name="width"/> maps.</summary>
    public static GridLayout Layout(int count, int height, int width, GridOptions? options = null)
    {
        options ??= new GridOptions();
        var columns = Math.Clamp(options.Columns ?? DefaultColumns(count), 1, Math.Max(1, count));
        var scale = Math.Max(1, (int)Math.Ceiling((double)options.MinCellSize / Math.Max(height, width)));
        int cellW = width * scale, cellH = height * scale;
        return new GridLayout(columns, (count + columns - 1) / columns, Margin, Margin, cellW, cellH, cellW + Gap, cellH + Gap, scale);
    }

    public static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) continue; // NaN and ±∞ would make every cell one colour
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return min > max ? (0, 0) : (min, max);
    }

    public static byte[] ToPng(Image<Rgb24> image) => Png.Encode(image);
}
