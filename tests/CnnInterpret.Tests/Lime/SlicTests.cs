using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CnnInterpret.Tests.Lime;

public sealed class SlicTests
{
    private static Image<Rgb24> Picture(int width, int height, Func<int, int, Rgb24> pixel)
    {
        var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++) image[x, y] = pixel(x, y);
        return image;
    }

    /// <summary>Every segment id 0…Count−1 is used, and each segment is one 4-connected piece.</summary>
    private static void AssertWellFormed(Segmentation s)
    {
        Assert.Equal(Enumerable.Range(0, s.Count), s.Labels.Distinct().Order());
        var seen = new bool[s.Count];
        var visited = new bool[s.Labels.Length];
        for (var start = 0; start < s.Labels.Length; start++)
        {
            if (visited[start]) continue;
            var label = s.Labels[start];
            Assert.False(seen[label], $"segment {label} is in more than one piece");
            seen[label] = true;
            var stack = new Stack<int>([start]);
            visited[start] = true;
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                int y = p / s.Width, x = p % s.Width;
                foreach (var q in new[] { x > 0 ? p - 1 : -1, x + 1 < s.Width ? p + 1 : -1, y > 0 ? p - s.Width : -1, y + 1 < s.Height ? p + s.Width : -1 })
                    if (q >= 0 && !visited[q] && s.Labels[q] == label)
                    {
                        visited[q] = true;
                        stack.Push(q);
                    }
            }
        }
        // Ids follow raster order of first appearance.
        var order = s.Labels.Distinct().ToArray();
        Assert.Equal(Enumerable.Range(0, s.Count), order);
    }

    [Fact]
    public void Two_colours_split_exactly_at_their_edge()
    {
        // Left 10 columns red, the rest blue: the colour edge is not where the grid would cut (column 14).
        using var image = Picture(28, 28, (x, _) => x < 10 ? new Rgb24(220, 30, 30) : new Rgb24(30, 30, 220));
        var s = Slic.Segment(image, new SlicOptions(Segments: 2));
        Assert.Equal(2, s.Count);
        for (var y = 0; y < 28; y++)
            for (var x = 0; x < 28; x++) Assert.Equal(x < 10 ? 0 : 1, s.Labels[y * 28 + x]);
    }

    [Fact]
    public void Natural_sized_inputs_get_about_the_count_asked_for_in_connected_pieces()
    {
        var random = new Random(3);
        var blobs = Enumerable.Range(0, 30).Select(_ => (X: random.Next(224), Y: random.Next(224), R: random.Next(10, 50), C: new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)))).ToList();
        using var image = Picture(224, 224, (x, y) => blobs.LastOrDefault(b => (x - b.X) * (x - b.X) + (y - b.Y) * (y - b.Y) < b.R * b.R, (X: 0, Y: 0, R: 0, C: new Rgb24(128, 128, 128))).C);
        var s = Slic.Segment(image);
        Assert.Equal(74, Slic.DefaultSegments(224, 224));
        Assert.InRange(s.Count, 50, 110);
        AssertWellFormed(s);

        using var small = Picture(28, 28, (x, y) => new Rgb24((byte)(x * 9), (byte)(y * 9), (byte)((x + y) * 4)));
        var t = Slic.Segment(small);
        Assert.Equal(18, Slic.DefaultSegments(28, 28));
        Assert.InRange(t.Count, 12, 25);
        AssertWellFormed(t);
    }

    [Fact]
    public void Higher_compactness_gives_squarer_segments()
    {
        var random = new Random(5);
        var noise = Enumerable.Range(0, 64 * 64).Select(_ => (byte)random.Next(256)).ToArray();
        using var image = Picture(64, 64, (x, y) => new Rgb24(noise[y * 64 + x], noise[y * 64 + x], noise[y * 64 + x]));
        double Perimeter(Segmentation s) => Enumerable.Range(0, 64 * 63).Count(p => s.Labels[p] != s.Labels[p + 64])
                                            + Enumerable.Range(0, 64 * 64).Count(p => p % 64 < 63 && s.Labels[p] != s.Labels[p + 1]);
        var loose = Slic.Segment(image, new SlicOptions(16, 1));
        var compact = Slic.Segment(image, new SlicOptions(16, 100));
        AssertWellFormed(loose);
        AssertWellFormed(compact);
        Assert.True(Perimeter(compact) / compact.Count < Perimeter(loose) / loose.Count,
            $"boundary per segment: compact {Perimeter(compact) / compact.Count:F0}, loose {Perimeter(loose) / loose.Count:F0}");
    }

    [Fact]
    public void Connectivity_splits_disconnected_pieces_and_merges_specks()
    {
        // Label 0 in two pieces (left and right columns), label 1 between them with a 1-pixel speck of label 2.
        int[] labels =
        [
            0, 1, 1, 0,
            0, 1, 2, 0,
            0, 1, 1, 0,
        ];
        var s = Slic.EnforceConnectivity(labels, 3, 4, minSize: 2);
        Assert.Equal([0, 1, 1, 2, 0, 1, 1, 2, 0, 1, 1, 2], s.Labels);
        Assert.Equal(3, s.Count);
    }

    [Fact]
    public void Cielab_matches_reference_values()
    {
        var white = Slic.ToLab(new Rgb24(255, 255, 255));
        Assert.Equal(100, white.L, 2);
        Assert.Equal(0, white.A, 2);
        Assert.Equal(0, white.B, 2);
        var red = Slic.ToLab(new Rgb24(255, 0, 0)); // skimage.color.rgb2lab([[[1, 0, 0]]]) = 53.24, 80.09, 67.20
        Assert.Equal(53.24, red.L, 1);
        Assert.Equal(80.09, red.A, 1);
        Assert.Equal(67.20, red.B, 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(785)]
    [InlineData(-3)]
    public void A_segment_count_out_of_range_is_refused_with_the_range(int segments)
    {
        var e = Assert.Throws<CnnInterpretException>(() => Slic.Validate(new SlicOptions(segments), 28, 28));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("between 2 and 500", e.Message);
        Assert.Contains(segments.ToString(), e.Message);
        var small = Assert.Throws<CnnInterpretException>(() => Slic.Validate(new SlicOptions(17), 4, 4));
        Assert.Contains("between 2 and 16", small.Message);
        Assert.Throws<CnnInterpretException>(() => Slic.Validate(new SlicOptions(10, 0), 28, 28));
    }
}
