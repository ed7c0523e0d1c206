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

    public static IReadOnlyList<string> Names => ["viridis", "gray"];

    public static Colormap Get(string? name) => (name ?? "viridis").ToLowerInvariant() switch
    {
        "viridis" => Viridis,
        "gray" or "grey" => Gray,
        _ => throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Unknown colormap '{name}'. Use one of: {string.Join(", ", Names)}."),
    };

    /// <summary>Colour for <paramref name="t"/> in [0,1] (clamped; NaN maps to 0).</summary>
    public Rgb24 Map(double t) => _table[double.IsNaN(t) ? 0 : (int)Math.Round(Math.Clamp(t, 0, 1) * 255)];

    private static byte ToByte(double v) => (byte)Math.Round(Math.Clamp(v, 0, 1) * 255);
}
