using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CnnInterpret.Core.Imaging;

/// <summary>
/// Several [H,W] maps over the same picture side by side, each labelled, with an optional second line under the
/// label (a sanity check's rank correlation with the original): a sanity-check or layer-sweep strip.
/// </summary>
public static class MapStrip
{
    public const int Cell = 112, Gap = 4, LineHeight = 14, Scale = 2;
    public static readonly Rgb24 Background = new(30, 30, 30), Text = new(220, 220, 220);

    public static byte[] Render(Image<Rgb24> picture, IReadOnlyList<(float[] Map, string Label)> maps) =>
        Render(picture, maps.Select(m => (m.Map, m.Label, (string?)null)).ToList());

    /// <param name="maps">Each map, its label (drawn in capitals) and a note drawn as given on the line below, or null.</param>
    public static byte[] Render(Image<Rgb24> picture, IReadOnlyList<(float[] Map, string Label, string? Note)> maps)
    {
        int height = picture.Height, width = picture.Width;
        var lines = maps.Any(m => m.Note is not null) ? 2 : 1;
        using var strip = new Image<Rgb24>(maps.Count * (Cell + Gap) + Gap, Cell + lines * LineHeight + 2 * Gap, Background);
        for (var i = 0; i < maps.Count; i++)
        {
            using var overlay = Overlay.Blend(picture, Normalised(maps[i].Map), height, width, new OverlayOptions(MinSize: Cell));
            overlay.Mutate(c => c.Resize(Cell, Cell, KnownResamplers.NearestNeighbor));
            var left = Gap + i * (Cell + Gap);
            strip.Mutate(c => c.DrawImage(overlay, new Point(left, Gap), 1f));
            var (x, y) = LabelAt(i, 0);
            BitmapFont.Draw(strip, Fit(maps[i].Label.ToUpperInvariant()), x, y, Scale, Text); // the font's lower-case 'e' is the exponent's
            if (maps[i].Note is { } note)
            {
                (x, y) = LabelAt(i, 1);
                BitmapFont.Draw(strip, Fit(note), x, y, Scale, Text);
            }
        }
        return ChannelGrid.ToPng(strip);
    }

    /// <summary>Top-left pixel of tile <paramref name="tile"/>'s label (line 0) or note (line 1).</summary>
    public static (int Left, int Top) LabelAt(int tile, int line) => (Gap + tile * (Cell + Gap), Gap + Cell + 3 + line * LineHeight);

    /// <summary>The note under a sanity-check map: Spearman's ρ with the original ("ρ 0.12"), "ρ N/A" when a map is flat.</summary>
    public static string Correlation(double rho) =>
        double.IsNaN(rho) ? "ρ N/A" : "ρ " + rho.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Min-max to [0,1] for display (signed maps included); a constant map is all zero.</summary>
    public static float[] Normalised(float[] map)
    {
        var (min, max) = ChannelGrid.Range(map);
        var span = max - min;
        return map.Select(v => span > 0 && float.IsFinite(v) ? (v - min) / span : 0f).ToArray();
    }

    private static string Fit(string label)
    {
        var fits = (Cell + 1) / ((BitmapFont.GlyphWidth + 1) * Scale);
        return label.Length <= fits ? label : label[..fits];
    }
}
