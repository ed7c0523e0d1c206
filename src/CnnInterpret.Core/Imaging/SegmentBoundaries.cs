using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

/// <summary>
/// Superpixel boundaries drawn over the picture the model saw (yellow, as skimage's mark_boundaries), enlarged
/// so small inputs stay legible; optionally with every segment outside a chosen set dimmed (lime's "top
/// segments" view).
/// </summary>
public static class SegmentBoundaries
{
    public static readonly Rgb24 Line = new(255, 220, 0);

    /// <summary>Enlargement for an H×W map so the longer side reaches at least 224 pixels (nearest neighbour).</summary>
    public static int Scale(int height, int width) => Math.Max(1, (int)Math.Ceiling(224.0 / Math.Max(height, width)));

    /// <param name="labels">[H,W] segment ids at the picture's resolution.</param>
    /// <param name="highlight">When given, segments not in it are dimmed to a quarter.</param>
    public static Image<Rgb24> Render(Image<Rgb24> picture, int[] labels, IReadOnlySet<int>? highlight = null)
    {
        int h = picture.Height, w = picture.Width, scale = Scale(h, w);
        var image = new Image<Rgb24>(w * scale, h * scale);
        for (var y = 0; y < h * scale; y++)
            for (var x = 0; x < w * scale; x++)
            {
                int sy = y / scale, sx = x / scale, label = labels[sy * w + sx];
                var edge = (x + 1 < w * scale && labels[sy * w + (x + 1) / scale] != label)
                           || (y + 1 < h * scale && labels[(y + 1) / scale * w + sx] != label);
                var p = picture[sx, sy];
                image[x, y] = edge ? Line
                    : highlight is null || highlight.Contains(label) ? p
                    : new Rgb24((byte)(p.R / 4), (byte)(p.G / 4), (byte)(p.B / 4));
            }
        return image;
    }
}
