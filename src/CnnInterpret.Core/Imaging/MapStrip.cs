using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CnnInterpret.Core.Imaging;

/// <summary>Several [H,W] maps over the same picture side by side, each labelled: a sanity-check or layer-sweep strip.</summary>
public static class MapStrip
{
    private const int Cell = 112, Gap = 4, LabelHeight = 14, Scale = 2;
    private static readonly Rgb24 Background = new(30, 30, 30), Text = new(220, 220, 220);

    public static byte[] Render(Image<Rgb24> picture, IReadOnlyList<(float[] Map, string Label)> maps)
    {
        int height = picture.Height, width = picture.Width;
        using var strip = new Image<Rgb24>(maps.Count * (Cell + Gap) + Gap, Cell + LabelHeight + 2 * Gap, Background);
        for (var i = 0; i < maps.Count; i++)
        {
            using var overlay = Overlay.Blend(picture, Normalised(maps[i].Map), height, width, new OverlayOptions(MinSize: Cell));
            overlay.Mutate(c => c.Resize(Cell, Cell, KnownResamplers.NearestNeighbor));
            var left = Gap + i * (Cell + Gap);
            strip.Mutate(c => c.DrawImage(overlay, new Point(left, Gap), 1f));
            var label = Fit(maps[i].Label);
            BitmapFont.Draw(strip, label, left, Gap + Cell + 3, Scale, Text);
        }
        return ChannelGrid.ToPng(strip);
    }

    /// <summary>Min-max to [0,1] for display (signed maps included); a constant map is all zero.</summary>
    public static float[] Normalised(float[] map)
    {
        var (min, max) = ChannelGrid.Range(map);
        var span = max - min;
        return map.Select(v => span > 0 && float.IsFinite(v) ? (v - min) / span : 0f).ToArray();
    }

    private static string Fit(string label)
    {
        label = label.ToUpperInvariant(); // the font's lower-case 'e' is the exponent's
        var fits = (Cell + 1) / ((BitmapFont.GlyphWidth + 1) * Scale);
        return label.Length <= fits ? label : label[..fits];
    }
}
