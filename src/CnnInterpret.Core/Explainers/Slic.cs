using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Core.Explainers;

/// <summary>Superpixels of an image: one label per pixel (row-major [H,W]), ids 0…Count−1 in raster order of first appearance.</summary>
public sealed record Segmentation(int[] Labels, int Height, int Width, int Count)
{
    /// <summary>Pixels per segment.</summary>
    public int[] Sizes()
    {
        var sizes = new int[Count];
        foreach (var label in Labels) sizes[label]++;
        return sizes;
    }

    /// <summary>A per-segment value painted on every pixel of its segment: [H,W].</summary>
    public float[] Paint(IReadOnlyList<double> perSegment)
    {
        var map = new float[Labels.Length];
        for (var i = 0; i < map.Length; i++) map[i] = (float)perSegment[Labels[i]];
        return map;
    }
}

/// <param name="Segments">How many superpixels to aim for (SLIC returns about this many); null: <see cref="Slic.DefaultSegments"/>.</param>
/// <param name="Compactness">Colour against space: higher gives squarer segments (skimage's default, 10, on CIELAB).</param>
public sealed record SlicOptions(int? Segments = null, double? Compactness = null);

/// <summary>
/// SLIC superpixels: Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods",
/// TPAMI 34(11), 2012. k-means on (L, a, b, x, y) with the distance √(d_lab² + (d_xy/S)²·m²), each centre
/// searching only a 2S×2S window, 10 iterations, then connectivity enforcement (every segment one
/// 4-connected piece; pieces under a quarter of the mean size join the neighbour they share most border with).
/// Deterministic. Deviation: the grid is laid out as rows × columns fitting the image's aspect ratio (as
/// skimage does) rather than a square step, so small, non-square inputs still get about the count asked for.
/// </summary>
public static class Slic
{
    public const double DefaultCompactness = 10;

    /// <summary>Most segments accepted: the surrogate and KernelSHAP solve an S×S system.</summary>
    public const int MaxSegments = 500;

    private const int Iterations = 10;

    /// <summary>About 2·∛(pixels): 18 for a 28×28 input, 74 for 224×224.</summary>
    public static int DefaultSegments(int height, int width) => Math.Clamp((int)Math.Round(2 * Math.Cbrt((double)height * width)), 4, 200);

    /// <summary>Checks a requested segment count and compactness for an H×W image; the message gives the valid range.</summary>
    public static (int Segments, double Compactness) Validate(SlicOptions? options, int height, int width)
    {
        var max = Math.Min(MaxSegments, height * width);
        var segments = options?.Segments ?? Math.Min(DefaultSegments(height, width), max);
        if (segments < 2 || segments > max)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"segments must be between 2 and {max} for the model's {height}×{width} input (at most one per pixel and at most {MaxSegments}); got {segments}. " +
                $"The default for this size is {DefaultSegments(height, width)}.");
        var compactness = options?.Compactness ?? DefaultCompactness;
        if (!(compactness > 0 && compactness <= 1000))
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"compactness must be above 0 and at most 1000 (default {DefaultCompactness}); got {compactness}.");
        return (segments, compactness);
    }

    public static Segmentation Segment(Image<Rgb24> image, SlicOptions? options = null)
    {
        int h = image.Height, w = image.Width;
        var (segments, compactness) = Validate(options, h, w);
        return Segment(ToLab(image), h, w, segments, compactness);
    }

    /// <summary>SLIC on CIELAB values [3, H, W] (planar).</summary>
    public static Segmentation Segment(float[] lab, int h, int w, int segments, double compactness)
    {
        int n = h * w;
        // Grid of ny × nx centres following the aspect ratio; step S is the mean spacing.
        var ny = Math.Clamp((int)Math.Round(Math.Sqrt(segments * (double)h / w)), 1, h);
        var nx = Math.Clamp((int)Math.Round((double)segments / ny), 1, w);
        var step = Math.Sqrt((double)n / (ny * nx));
        var k = ny * nx;
        var centres = new double[k * 5]; // L, a, b, y, x
        for (var i = 0; i < ny; i++)
            for (var j = 0; j < nx; j++)
            {
                var (y, x) = LowestGradient(lab, h, w, (int)((i + 0.5) * h / ny), (int)((j + 0.5) * w / nx));
                var c = (i * nx + j) * 5;
                var p = y * w + x;
                (centres[c], centres[c + 1], centres[c + 2], centres[c + 3], centres[c + 4]) = (lab[p], lab[n + p], lab[2 * n + p], y, x);
            }

        var labels = new int[n];
        var distance = new double[n];
        var spatial = compactness * compactness / (step * step);
        var window = (int)Math.Ceiling(step);
        var sums = new double[k * 6];
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            Array.Fill(distance, double.MaxValue);
            for (var c = 0; c < k; c++)
            {
                var o = c * 5;
                int cy = (int)Math.Round(centres[o + 3]), cx = (int)Math.Round(centres[o + 4]);
                for (var y = Math.Max(0, cy - window); y < Math.Min(h, cy + window + 1); y++)
                    for (var x = Math.Max(0, cx - window); x < Math.Min(w, cx + window + 1); x++)
                    {
                        var p = y * w + x;
                        double dl = lab[p] - centres[o], da = lab[n + p] - centres[o + 1], db = lab[2 * n + p] - centres[o + 2];
                        double dy = y - centres[o + 3], dx = x - centres[o + 4];
                        var d = dl * dl + da * da + db * db + (dy * dy + dx * dx) * spatial;
                        if (d < distance[p])
                        {
                            distance[p] = d;
                            labels[p] = c;
                        }
                    }
            }
            Array.Clear(sums);
            for (var p = 0; p < n; p++)
            {
                var s = labels[p] * 6;
                sums[s] += lab[p];
                sums[s + 1] += lab[n + p];
                sums[s + 2] += lab[2 * n + p];
                sums[s + 3] += p / w;
                sums[s + 4] += p % w;
                sums[s + 5]++;
            }
            for (var c = 0; c < k; c++)
                if (sums[c * 6 + 5] > 0)
                    for (var f = 0; f < 5; f++) centres[c * 5 + f] = sums[c * 6 + f] / sums[c * 6 + 5];
        }
        return EnforceConnectivity(labels, h, w, Math.Max(1, n / k / 4));
    }

    /// <summary>
    /// Makes every segment one 4-connected piece: pieces are found in raster order, then each piece smaller than
    /// <paramref name="minSize"/> (smallest first) joins the neighbouring piece it shares the longest border with,
    /// until none is too small. (Achanta's EnforceLabelConnectivity hands a small piece to the piece met just
    /// before it in raster order; on fragmented input that cascades into one giant segment, which this avoids.)
    /// Ids are then renumbered 0…S−1 in raster order of first appearance.
    /// </summary>
    public static Segmentation EnforceConnectivity(int[] labels, int h, int w, int minSize)
    {
        var n = h * w;
        var piece = new int[n];
        Array.Fill(piece, -1);
        var pixels = new List<List<int>>();
        for (var start = 0; start < n; start++)
        {
            if (piece[start] >= 0) continue;
            var members = new List<int> { start };
            piece[start] = pixels.Count;
            for (var head = 0; head < members.Count; head++)
                foreach (var q in Neighbours(members[head], h, w))
                    if (piece[q] < 0 && labels[q] == labels[start])
                    {
                        piece[q] = pixels.Count;
                        members.Add(q);
                    }
            pixels.Add(members);
        }

        var parent = Enumerable.Range(0, pixels.Count).ToArray();
        int Find(int c)
        {
            while (parent[c] != c) c = parent[c] = parent[parent[c]];
            return c;
        }
        foreach (var small in Enumerable.Range(0, pixels.Count).Where(c => pixels[c].Count < minSize).OrderBy(c => pixels[c].Count).ThenBy(c => c).ToList())
        {
            var root = Find(small);
            while (pixels[root].Count < minSize && pixels[root].Count < n)
            {
                var border = new Dictionary<int, int>();
                foreach (var p in pixels[root])
                    foreach (var q in Neighbours(p, h, w))
                        if (Find(piece[q]) is var other && other != root)
                            border[other] = border.GetValueOrDefault(other) + 1;
                var into = border.OrderByDescending(b => b.Value).ThenBy(b => b.Key).First().Key;
                parent[root] = into;
                pixels[into].AddRange(pixels[root]);
                pixels[root] = [];
                root = into;
            }
        }

        var ids = new Dictionary<int, int>();
        var result = new int[n];
        for (var p = 0; p < n; p++)
        {
            var root = Find(piece[p]);
            if (!ids.TryGetValue(root, out var id)) ids[root] = id = ids.Count;
            result[p] = id;
        }
        return new Segmentation(result, h, w, ids.Count);
    }

    private static IEnumerable<int> Neighbours(int p, int h, int w)
    {
        int y = p / w, x = p % w;
        if (x > 0) yield return p - 1;
        if (y > 0) yield return p - w;
        if (x + 1 < w) yield return p + 1;
        if (y + 1 < h) yield return p + w;
    }

    /// <summary>Moves a seed to the lowest colour gradient in its 3×3 neighbourhood, so it does not start on an edge.</summary>
    private static (int Y, int X) LowestGradient(float[] lab, int h, int w, int y0, int x0)
    {
        var n = h * w;
        var best = (Y: y0, X: x0);
        var bestGradient = double.MaxValue;
        for (var y = Math.Max(1, y0 - 1); y <= Math.Min(h - 2, y0 + 1); y++)
            for (var x = Math.Max(1, x0 - 1); x <= Math.Min(w - 2, x0 + 1); x++)
            {
                double g = 0;
                for (var c = 0; c < 3; c++)
                {
                    double gx = lab[c * n + y * w + x + 1] - lab[c * n + y * w + x - 1], gy = lab[c * n + (y + 1) * w + x] - lab[c * n + (y - 1) * w + x];
                    g += gx * gx + gy * gy;
                }
                if (g < bestGradient)
                {
                    bestGradient = g;
                    best = (y, x);
                }
            }
        return best;
    }

    /// <summary>sRGB (D65) → CIELAB, planar [3, H, W].</summary>
    public static float[] ToLab(Image<Rgb24> image)
    {
        int h = image.Height, w = image.Width, n = h * w;
        var lab = new float[3 * n];
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < w; x++)
                {
                    var (l, a, b) = ToLab(row[x]);
                    var p = y * w + x;
                    (lab[p], lab[n + p], lab[2 * n + p]) = ((float)l, (float)a, (float)b);
                }
            }
        });
        return lab;
    }

    public static (double L, double A, double B) ToLab(Rgb24 pixel)
    {
        static double Linear(byte v)
        {
            var c = v / 255.0;
            return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
        static double F(double t) => t > 216.0 / 24389 ? Math.Cbrt(t) : t * 24389 / 27 / 116 + 16.0 / 116;
        double r = Linear(pixel.R), g = Linear(pixel.G), b = Linear(pixel.B);
        var fx = F((0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.950456);
        var fy = F(0.212671 * r + 0.715160 * g + 0.072169 * b);
        var fz = F((0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.088754);
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz));
    }
}
