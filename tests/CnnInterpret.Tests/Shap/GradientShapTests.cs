using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Shap;

public sealed class GradientShapTests
{
    /// <summary>f(x) = W·x + b on a 1×2×2 input: gradients are the rows of W everywhere.</summary>
    private static CnnModel Linear()
    {
        var architecture = VggArchitecture.FromWidths(1, [], avgPool: [2, 2], classifier: [], numClasses: 2);
        var model = new CnnModel("linear", "Linear", new Preprocessing("gray", 2, [2, 2], [0f], [1f]), ["a", "b"], architecture.BuildLayers());
        using var scope = NewDisposeScope();
        model.LoadWeights(new Dictionary<string, Tensor>
        {
            ["classifier.0.weight"] = tensor(new[] { 1f, 2f, 3f, 4f, -1f, 0f, 1f, 0.5f }, [2, 4]),
            ["classifier.0.bias"] = tensor(new[] { 0.1f, -0.2f }),
        }, "test", "hand-made weights");
        return model;
    }

    /// <summary>conv(1→2, 3×3) → ReLU → max-pool → avg-pool → linear(2→2) on 4×4: piecewise linear, not linear.</summary>
    private static CnnModel Tiny()
    {
        var architecture = VggArchitecture.FromWidths(1, [2, 0], avgPool: [1, 1], classifier: [], numClasses: 2);
        var model = new CnnModel("tiny", "Tiny", new Preprocessing("gray", 4, [4, 4], [0f], [1f]), ["up", "down"], architecture.BuildLayers());
        using var scope = NewDisposeScope();
        model.LoadWeights(new Dictionary<string, Tensor>
        {
            ["features.0.weight"] = tensor(new[] { 1f, -1f, 0.5f, 0f, 2f, 0f, -0.5f, 1f, 0.25f, 0.3f, 0.3f, 0.3f, -1f, 1f, -1f, 0.2f, 0.4f, 0.6f }, [2, 1, 3, 3]),
            ["features.0.bias"] = tensor(new[] { -0.5f, 0.2f }),
            ["classifier.0.weight"] = tensor(new[] { 1f, -2f, 0.5f, 1.5f }, [2, 2]),
            ["classifier.0.bias"] = tensor(new[] { 0f, 0.3f }),
        }, "test", "hand-made weights");
        return model;
    }

    private static readonly float[] X16 = Enumerable.Range(0, 16).Select(i => (float)Math.Sin(i * 1.7) + 0.3f * (i % 4)).ToArray();

    private static GradientShapOptions Options(int samples, int batch = 8, int seed = 0, string? layer = null) =>
        new(SampleCount.Of(samples), seed, layer, ScoreKind.Logit, batch, PartialInterval: TimeSpan.FromHours(1));

    [Fact]
    public void On_a_linear_model_the_attributions_are_the_weights_times_the_difference()
    {
        using var model = Linear();
        float[] x = [1, 2, -1, 0.5f], baseline = [0.5f, 0, 0, -1];
        var result = GradientShap.Explain(model, x, [baseline], [new Target.Class(0), new Target.Class(1)], Options(20));
        float[][] w = [[1, 2, 3, 4], [-1, 0, 1, 0.5f]];
        for (var t = 0; t < 2; t++)
        {
            for (var k = 0; k < 4; k++) Assert.Equal(w[t][k] * (x[k] - baseline[k]), result.Values[t][k], 5);
            Assert.Equal(0, result.EfficiencyGap[t], 5); // one baseline, linear model: exact
        }
        Assert.Equal([1, 2, 2], result.Shape);
        Assert.Equal(1 * 1 + 2 * 2 + 3 * -1 + 4 * 0.5 + 0.1, result.Fx[0], 5);
        Assert.Equal(0.5 + 0 + 0 - 4 + 0.1, result.FBaseline[0], 5);

        // With two baselines FBaseline is their mean; the samples visit the baselines in turn, so with an even count each
        // gets exactly half and, the model being linear, efficiency is exact again.
        float[] other = [0, 0, 0, 0];
        var two = GradientShap.Explain(model, x, [baseline, other], [new Target.Class(0)], Options(40));
        Assert.Equal(((0.5 - 4 + 0.1) + 0.1) / 2, two.FBaseline[0], 5);
        Assert.Equal(0, two.EfficiencyGap[0], 4);
        for (var k = 0; k < 4; k++) Assert.Equal(w[0][k] * (x[k] - (baseline[k] + other[k]) / 2), two.Values[0][k], 5);
    }

    [Fact]
    public void On_a_relu_network_efficiency_holds_approximately()
    {
        using var model = Tiny();
        var baseline = new float[16];
        var result = GradientShap.Explain(model, X16, [baseline], [new Target.Class(0)], Options(3000, batch: 64));
        var delta = result.Fx[0] - result.FBaseline[0];
        Assert.True(Math.Abs(delta) > 0.3, $"the test needs a real difference, got {delta}");
        Assert.True(Math.Abs(result.EfficiencyGap[0]) < 0.03 * Math.Abs(delta), $"Σφ = {result.Values[0].Sum()}, f(x) − f(x′) = {delta}");
    }

    [Fact]
    public void At_an_inner_layer_the_layer_activation_is_attributed()
    {
        using var model = Tiny();
        var result = GradientShap.Explain(model, X16, [new float[16]], [new Target.Class(1)], Options(3000, batch: 64, layer: "features.1"));
        Assert.Equal([2, 4, 4], result.Shape);
        Assert.Equal("features.1", result.Layer);
        var delta = result.Fx[0] - result.FBaseline[0];
        Assert.True(Math.Abs(delta) > 0.3, $"the test needs a real difference, got {delta}");
        // After the ReLU the network is max-pool → mean → linear: piecewise linear in the activation; Σφ ≈ f(x) − f(x′).
        Assert.True(Math.Abs(result.EfficiencyGap[0]) < 0.03 * Math.Abs(delta), $"Σφ = {result.Values[0].Sum()}, f(x) − f(x′) = {delta}");
        // Only the max of each 2×2 pooling window can matter: the rest get exactly 0.
        Assert.True(result.Values[0].Count(v => v == 0) >= 2 * 12);
    }

    [Fact]
    public void The_same_seed_gives_the_same_numbers_whatever_the_batch_size()
    {
        using var model = Tiny();
        var baselines = new List<float[]> { new float[16], X16.Select(v => v * 0.5f).ToArray(), X16.Select(v => -v).ToArray() };
        var reference = GradientShap.Explain(model, X16, baselines, [new Target.Class(0)], Options(60, batch: 60, seed: 3));
        foreach (var batch in new[] { 1, 7 })
        {
            var other = GradientShap.Explain(model, X16, baselines, [new Target.Class(0)], Options(60, batch: batch, seed: 3));
            for (var k = 0; k < 16; k++) Assert.Equal(reference.Values[0][k], other.Values[0][k], 6);
        }
        var reseeded = GradientShap.Explain(model, X16, baselines, [new Target.Class(0)], Options(60, batch: 60, seed: 4));
        Assert.NotEqual(reference.Values[0], reseeded.Values[0]);
    }

    [Fact]
    public void Draws_visit_every_baseline_in_turn_and_spread_alpha_over_each_path()
    {
        Assert.Equal([0, 0.5, 0.25, 0.75, 0.125, 0.625], Enumerable.Range(0, 6).Select(GradientShap.VanDerCorput));
        var draws = GradientShap.Draws(3 * 64, 3, seed: 1);
        Assert.All(draws.Chunk(3), round => Assert.Equal([0, 1, 2], round.Select(d => d.Baseline).Order()));
        foreach (var baseline in Enumerable.Range(0, 3))
        {
            var alphas = draws.Where(d => d.Baseline == baseline).Select(d => d.Alpha).ToArray();
            Assert.All(alphas, a => Assert.InRange(a, 0, 1));
            // 64 points of a shifted van der Corput sequence: exactly one in each 1/64 of [0, 1).
            Assert.Equal(Enumerable.Range(0, 64), alphas.Select(a => (int)(a * 64)).Order());
        }
        Assert.NotEqual(draws, GradientShap.Draws(3 * 64, 3, seed: 2));
    }

    [Fact]
    public void Cancellation_returns_the_samples_done_so_far()
    {
        using var model = Tiny();
        using var cancel = new CancellationTokenSource();
        var partials = 0;
        var options = Options(1000, batch: 10) with { PartialInterval = TimeSpan.Zero };
        var result = GradientShap.Explain(model, X16, [new float[16]], [new Target.Class(0)], options, p =>
        {
            partials++;
            Assert.Equal(10 * partials, p.Samples);
            if (partials == 2) cancel.Cancel();
        }, cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(20, result.Samples);
        Assert.Equal(2, partials);
    }
}
