using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

/// <summary>Renders images given as [K,C,H,W] values in [0,1] (C = 1 gray or 3 RGB): one alone, or a grid labelled with channel numbers.</summary>
public static class PatternGrid
{
    private const int Gap = 4, Margin = 4, TextScale = 2;
    private static readonly Rgb24 Background = new(30, 30, 30), Text = new(220, 220, 220);

    /// <summary>Columns for <paramref name="count"/> patterns: 8 (the original's 8×8 grid for 64 channels), fewer when there are fewer.</summary>
    public static int DefaultColumns(int count) => Math.Clamp(count, 1, 8);

    public static Image<Rgb24> Render(ReadOnlySpan<float> pixels, int count, int channels, int height, int width,
        IReadOnlyList<int> labels, int? columns = null, int minCellSize = 64)
    {
        var plane = channels * height * width;
        if (count <= 0 || pixels.Length != count * plane || labels.Count != count)
            throw new ArgumentException($"Expected {count}×{channels}×{height}×{width} values and {count} labels.");
        var layout = Layout(count, height, width, columns, minCellSize);
        int cols = layout.Columns, rows = layout.Rows, scale = layout.Scale, cellW = layout.CellWidth, cellH = layout.CellHeight;
        var image = new Image<Rgb24>(cols * cellW + (cols - 1) * Gap + 2 * Margin, rows * layout.StepY - Gap + 2 * Margin, Background);
        for (var i = 0; i < count; i++)
        {
            int left = layout.Left + i % cols * layout.StepX, top = layout.Top + i / cols * layout.StepY;
            Draw(image, pixels.Slice(i * plane, plane), channels, height, width, left, top, scale);
            var label = labels[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
            BitmapFont.Draw(image, label, left + (cellW - BitmapFont.Measure(label, TextScale)) / 2, top + cellH + Gap, TextScale, Text);
        }
        return image;
    }

    /// <summary>Where <see cref="Render"/> puts each pattern (the label under a cell is not part of it).</summary>
    public static GridLayout Layout(int count, int height, int width, int? columns = null, int minCellSize = 64)
    {
        var cols = Math.Clamp(columns ?? DefaultColumns(count), 1, Math.Max(1, count));
        var scale = Math.Max(1, (int)Math.Ceiling((double)minCellSize / Math.Max(height, width)));
        int cellW = width * scale, cellH = height * scale, labelH = BitmapFont.GlyphHeight * TextScale + Gap;
        return new GridLayout(cols, (count + cols - 1) / cols, Margin, Margin, cellW, cellH, cellW + Gap, cellH + labelH + Gap, scale);
    }

    /// <summary>One pattern [C,H,W], enlarged (nearest neighbour) to at least <paramref name="minSize"/> pixels.</summary>
    public static Image<Rgb24> Single(ReadOnlySpan<float> pixels, int channels, int height, int width, int minSize = 224)
    {
        var scale = Math.Max(1, (int)Math.Ceiling((double)minSize / Math.Max(height, width)));
        var image = new Image<Rgb24>(width * scale, height * scale);
        Draw(image, pixels, channels, height, width, 0, 0, scale);
        return image;
    }

    private static void Draw(Image<Rgb24> image, ReadOnlySpan<float> pixels, int channels, int height, int width, int left, int top, int scale)
    {
        var plane = height * width;
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = y * width + x;
                var colour = channels == 1
                    ? new Rgb24(ToByte(pixels[i]), ToByte(pixels[i]), ToByte(pixels[i]))
                    : new Rgb24(ToByte(pixels[i]), ToByte(pixels[plane + i]), ToByte(pixels[2 * plane + i]));
                BitmapFont.Fill(image, left + x * scale, top + y * scale, scale, scale, colour);
            }
    }

    private static byte ToByte(float v) => (byte)Math.Round(Math.Clamp(float.IsNaN(v) ? 0 : v, 0, 1) * 255);
}
