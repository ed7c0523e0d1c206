using CnnInterpret.Core.Explainers;
using CnnInterpret.Tests.TestSupport;
using Xunit.Abstractions;
using static CnnInterpret.Tests.Parity.PytorchGradCamReferences;

namespace CnnInterpret.Tests.Parity;

/// <summary>ROAD against pytorch-grad-cam's <c>NoisyLinearImputer</c>, its percentile rule, and its metric on VGG16.</summary>
public sealed class RoadParityTests(ITestOutputHelper output)
{
    [Fact]
    public void The_linear_imputation_is_pytorch_grad_cams()
    {
        var image = Read("road-image.npy");
        var keep = Read("road-mask.npy").Select(v => v > 0.5f).ToArray();
        var expected = Read("road-imputed.npy");
        var ours = NoisyLinearImputer.Impute(image, 3, 12, 16, keep, noise: 0, new Random(0));
        var difference = RelativeDifference(expected, ours);
        output.WriteLine($"NoisyLinearImputer(noise=0) on 3×12×16, {keep.Count(k => !k)} of 192 pixels missing: max relative difference {difference:E2}");
        Assert.True(difference <= 1e-5, $"{difference:E2}");
        for (var i = 0; i < ours.Length; i++)
            if (keep[i % 192]) Assert.Equal(image[i], ours[i]); // known pixels untouched
    }

    [Fact]
    public void The_noise_is_gaussian_with_sigma_a_hundredth_on_the_removed_pixels_only()
    {
        var image = Read("road-image.npy");
        var keep = Read("road-mask.npy").Select(v => v > 0.5f).ToArray();
        var plain = NoisyLinearImputer.Impute(image, 3, 12, 16, keep, noise: 0, new Random(0));
        var noisy = Enumerable.Range(0, 50).SelectMany(seed => NoisyLinearImputer.Impute(image, 3, 12, 16, keep, NoisyLinearImputer.DefaultNoise, new Random(seed))
            .Select((v, i) => (Value: (double)v - plain[i], Removed: !keep[i % 192]))).ToList();
        Assert.All(noisy.Where(n => !n.Removed), n => Assert.Equal(0, n.Value));
        var removed = noisy.Where(n => n.Removed).Select(n => n.Value).ToList();
        var mean = removed.Average();
        var sigma = Math.Sqrt(removed.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.001, 0.001); // 6000 draws: the standard error is 1.3e-4
        Assert.InRange(sigma, 0.0097, 0.0103);
    }

    [Fact]
    public void The_pixels_kept_at_each_percentile_are_pytorch_grad_cams_ties_included()
    {
        var map = Read("road-cam.npy");
        var morf = Read("road-morf-masks.npy");
        var lerf = Read("road-lerf-masks.npy");
        var reversed = map.Select(v => 1f - v).ToArray();
        var percentiles = Json.GetProperty("road").GetProperty("percentiles").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        for (var i = 0; i < percentiles.Length; i++)
        {
            Assert.Equal(morf.Skip(i * 80).Take(80).Select(v => v > 0.5f), Road.Keep(map, percentiles[i]));
            Assert.Equal(lerf.Skip(i * 80).Take(80).Select(v => v > 0.5f), Road.Keep(reversed, percentiles[i]));
        }
    }

    /// <summary>
    /// The neighbour weights are symmetric, so a linear ramp is its own weighted neighbour mean: with the removed pixels
    /// away from the border, the imputation gives the ramp back. On 224×224 with 91% of it removed: the size ROAD meets.
    /// </summary>
    [Fact]
    public void A_linear_ramp_is_imputed_exactly_even_with_most_of_a_large_image_removed()
    {
        const int side = 224;
        var image = new float[3 * side * side];
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < side; y++)
                for (var x = 0; x < side; x++) image[(c * side + y) * side + x] = 0.01f * x - 0.02f * y + c;
        var keep = new bool[side * side];
        for (var y = 0; y < side; y++)
            for (var x = 0; x < side; x++) keep[y * side + x] = x < 10 || y < 10 || x >= side - 10 || y >= side - 10;
        var started = DateTime.UtcNow;
        var ours = NoisyLinearImputer.Impute(image, 3, side, side, keep, noise: 0, new Random(0));
        output.WriteLine($"224×224×3, {keep.Count(k => !k)} pixels removed: {(DateTime.UtcNow - started).TotalSeconds:F2} s");
        Assert.True(image.Zip(ours, (a, b) => Math.Abs(a - b)).Max() < 1e-5);
    }

    [Theory]
    [InlineData(new[] { 1f, 2, 3, 4 }, 50, 2.5)]
    [InlineData(new[] { 0f, 0, 0, 1 }, 60, 0)]
    [InlineData(new[] { 5f }, 90, 5)]
    [InlineData(new[] { 3f, 1, 2 }, 25, 1.5)]
    public void Percentiles_are_numpys_linear_ones(float[] values, double percentile, double expected) =>
        Assert.Equal(expected, Road.Percentile(values, percentile), 12);
}

/// <summary>ROAD on the seed-0 VGG16: pytorch-grad-cam's metric (noise 0) on the same map.</summary>
[Collection(SerialTorch.Name)]
public sealed class RoadVggParityTests(ITestOutputHelper output)
{
    [VggReferenceFact]
    public void Road_curves_are_pytorch_grad_cams_without_noise()
    {
        var road = Json.GetProperty("road");
        var map = Read(road.GetProperty("vggMap").GetString()!);
        var started = DateTime.UtcNow;
        var curves = Road.Curves(Vgg16, Input, InputShape, new Target.Class(TargetClass), map, noise: 0);
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        // pytorch-grad-cam's percentile p keeps the map below its p-th percentile: it removes 100 − p percent.
        var morf = Read("road-vgg-morf.npy").Reverse().ToArray();
        var lerf = Read("road-vgg-lerf.npy").Reverse().ToArray();
        Assert.Equal([10, 20, 30, 40, 50, 60, 70, 80, 90], curves.Percentages);
        var most = RelativeDifference(morf, curves.MostRelevantFirst.Select(v => (float)v).ToArray());
        var least = RelativeDifference(lerf, curves.LeastRelevantFirst.Select(v => (float)v).ToArray());
        output.WriteLine($"ROAD on VGG16 112×112 (noise 0): most relevant first {most:E2}, least relevant first {least:E2} of the largest value; {seconds:F2} s");
        Assert.True(most <= 1e-4 && least <= 1e-4, $"{most:E2} {least:E2}");
        Assert.Equal(road.GetProperty("vggProbability").GetDouble(), curves.Original, 1e-4 * curves.Original);
        Assert.Equal(road.GetProperty("combined").GetDouble(), curves.Combined, 1e-4 * curves.Original); // a difference of curves: checked on their scale
    }
}
