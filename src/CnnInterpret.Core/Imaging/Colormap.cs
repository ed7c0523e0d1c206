using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Imaging;

/// <summary>A 256-entry lookup table from [0,1] to colour.</summary>
public sealed class Colormap
{
    private readonly Rgb24[] _table;

    private Colormap(string name, Func<double, (double R, double G, double B)> f)
    {
        Name = name;
        _table = Enumerable.Range(0, 256).Select(i =>
        {
            var (r, g, b) = f(i / 255.0);
            return new Rgb24(ToByte(r), ToByte(g), ToByte(b));
        }).ToArray();
    }

    public string Name { get; }

    /// <summary>Perceptually uniform and readable by colour-blind users: the default, as in matplotlib.</summary>
    public static readonly Colormap Viridis = new("viridis", t =>
    {
        // A degree-6 polynomial fit of matplotlib's viridis (within 4/255 per channel of its table), to avoid a 768-number table.
        static double P(double t, double c0, double c1, double c2, double c3, double c4, double c5, double c6) =>
            c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
        return (P(t, 0.2777273272234177, 0.1050930431085774, -0.3308618287255563, -4.634230498983486, 6.228269936347081, 4.776384997670288, -5.435455855934631),
                P(t, 0.005407344544966578, 1.404613529898575, 0.214847559468213, -5.799100973351585, 14.17993336680509, -13.74514537774601, 4.645852612178535),
                P(t, 0.3340998053353061, 1.384590162594685, 0.09509516302823659, -19.33244095627987, 56.69055260068105, -65.35303263337234, 26.3124352495832));
    });

    public static readonly Colormap Gray = new("gray", t => (t, t, t));

    /// <summary>
    /// matplotlib's jet (its piecewise-linear segment data): the rainbow pytorch-grad-cam's overlays use (OpenCV's
    /// COLORMAP_JET), so its users read our maps as they read theirs. Not perceptually uniform: prefer turbo.
    /// </summary>
    public static readonly Colormap Jet = new("jet", t => (
        Segments(t, (0, 0), (0.35, 0), (0.66, 1), (0.89, 1), (1, 0.5)),
        Segments(t, (0, 0), (0.125, 0), (0.375, 1), (0.64, 1), (0.91, 0), (1, 0)),
        Segments(t, (0, 0.5), (0.11, 1), (0.34, 1), (0.65, 0), (1, 0))));

    /// <summary>
    /// Turbo (Mikhailov, Google AI blog, 2019): jet's hues without its bands and dead ends, so the hot region of a map
    /// stands out over a photo's own colours; the default of the panel's overlays. Mikhailov's polynomial
    /// approximation (as d3-scale-chromatic's interpolateTurbo), within a few levels of his table except at the dark ends.
    /// </summary>
    public static readonly Colormap Turbo = new("turbo", t =>
    {
        double t2 = t * t, t3 = t2 * t, t4 = t3 * t, t5 = t4 * t;
        return (0.13572138 + 4.61539260 * t - 42.66032258 * t2 + 132.13108234 * t3 - 152.94239396 * t4 + 59.28637943 * t5,
                0.09140261 + 2.19418839 * t + 4.84296658 * t2 - 14.18503333 * t3 + 4.27729857 * t4 + 2.82956604 * t5,
                0.10667330 + 12.64194608 * t - 60.58204836 * t2 + 110.36276771 * t3 - 89.90310912 * t4 + 27.34824973 * t5);
    });

    public static IReadOnlyList<string> Names => ["viridis", "gray", "jet", "turbo"];

    public static Colormap Get(string? name) => (name ?? "viridis").ToLowerInvariant() switch
    {
        "viridis" => Viridis,
        "gray" or "grey" => Gray,
        "jet" => Jet,
        "turbo" => Turbo,
        _ => throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Unknown colormap '{name}'. Use one of: {string.Join(", ", Names)}."),
    };

    /// <summary>Colour for <paramref name="t"/> in [0,1] (clamped; NaN maps to 0).</summary>
    public Rgb24 Map(double t) => _table[double.IsNaN(t) ? 0 : (int)Math.Round(Math.Clamp(t, 0, 1) * 255)];

    /// <summary>The colours from 0 (left) to 1 (right), one pixel high: the legend of a map drawn in this colormap.</summary>
    public byte[] LegendPng()
    {
        using var image = new SixLabors.ImageSharp.Image<Rgb24>(_table.Length, 1);
        for (var x = 0; x < _table.Length; x++) image[x, 0] = _table[x];
        return ChannelGrid.ToPng(image);
    }

    /// <summary>matplotlib's LinearSegmentedColormap: straight lines between (x, value) points, x rising from 0 to 1.</summary>
    private static double Segments(double t, params (double X, double Y)[] points)
    {
        for (var i = 1; i < points.Length; i++)
            if (t <= points[i].X)
                return points[i - 1].Y + (points[i].Y - points[i - 1].Y) * (t - points[i - 1].X) / (points[i].X - points[i - 1].X);
        return points[^1].Y;
    }

    private static byte ToByte(double v) => (byte)Math.Round(Math.Clamp(v, 0, 1) * 255);
}
