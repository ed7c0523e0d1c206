using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Trust;

public sealed class LayerSweepAndSanityTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "pullover-0.png");

    [Fact]
    public void A_layer_sweep_equals_one_grad_cam_per_layer()
    {
        using var engine = Repo.NewEngine();
        var sweep = engine.LayerSweep("fashion-vgg", Image);
        Assert.Equal(["block1_conv1_relu", "block1_conv2_relu", "block2_conv1_relu", "block2_conv2_relu", "block3_conv1_relu", "block3_conv2_relu"], sweep.Maps.Select(m => m.Layer.DisplayName));
        foreach (var map in sweep.Maps)
        {
            var single = engine.GradCam("fashion-vgg", Image, map.Layer.Name, sweep.Target);
            Assert.Equal(single.Score, sweep.Score, 4);
            for (var i = 0; i < single.Heatmap.Length; i++) Assert.Equal(single.Heatmap[i], map.Heatmap[i], 4);
            for (var i = 0; i < single.LowRes.Length; i++) Assert.Equal(single.LowRes[i], map.LowRes[i], 3);
        }
        Assert.Equal([0x89, (byte)'P'], sweep.StripPng.Take(2));

        // A channel target before every swept layer depends on none of them: refused, as the Grad-CAM view refuses it.
        var e = Assert.Throws<CnnInterpretException>(() => engine.LayerSweep("fashion-vgg", Image, new Target.Channel("features.0", 3)));
        Assert.Contains("comes before 'features.1'", e.Message);
    }

    [Fact]
    public void Randomising_the_model_makes_grad_cam_correlations_fall()
    {
        using var engine = Repo.NewPrivateEngine();
        var model = engine.GetModel("fashion-vgg");
        var (weights, hash) = (Weights(model), model.WeightsHash);
        var cached = engine.Cache.Count;
        var result = engine.Sanity("fashion-vgg", Image, new TrustRequest("grad-cam", Layer: "block3_conv2"));
        var stages = result.Result.Stages;
        Assert.Equal(10, stages.Count); // the original and 9 parameterised layers, from the top down
        Assert.Equal("classifier.6", stages[1].Randomized);
        Assert.Equal("features.0", stages[^1].Randomized);
        Assert.Equal(1, stages[0].RankCorrelation);
        var late = stages[^1].RankCorrelation;
        Assert.True(double.IsNaN(late) || late < 0.5, $"after full randomisation the map still correlates {late:F2}");
        Assert.False(result.Result.Flagged);

        // The model was randomised in place and is back: every weight, its hash, the same Grad-CAM as before the check;
        // only the original's activations stay cached (one image), not the nine randomised models'.
        Assert.Same(model, engine.GetModel("fashion-vgg"));
        Assert.Equal(hash, model.WeightsHash);
        Assert.Equal(weights, Weights(model));
        Assert.Equal(cached + 1, engine.Cache.Count);
        var again = engine.GradCam("fashion-vgg", Image, "block3_conv2");
        Assert.Equal(stages[0].Map, again.Heatmap);
    }

    [Fact]
    public void A_cancelled_sanity_check_restores_the_models_weights()
    {
        using var engine = Repo.NewPrivateEngine();
        var model = engine.GetModel("fashion-vgg");
        var (weights, hash) = (Weights(model), model.WeightsHash);
        using var cancel = new CancellationTokenSource();
        // Cancelled while the third layer is randomised: two layers have changed by then.
        var progress = new Inline(p => { if (p.Done == 2) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            engine.Sanity("fashion-vgg", Image, new TrustRequest("grad-cam", Layer: "block3_conv2"), progress: progress, cancellation: cancel.Token));
        Assert.Equal(hash, model.WeightsHash);
        Assert.Equal(weights, Weights(model));
        Assert.Same(model, engine.GetModel("fashion-vgg")); // restored, so not unloaded
    }

    [Fact]
    public void A_failed_sanity_check_restores_the_models_weights()
    {
        using var engine = Repo.NewPrivateEngine();
        var model = engine.GetModel("fashion-vgg");
        var (weights, hash) = (Weights(model), model.WeightsHash);
        var calls = 0;
        var seen = new List<string>();
        var failure = Assert.Throws<InvalidOperationException>(() => SanityCheck.Run(model, m =>
        {
            seen.Add(m.WeightsHash);
            return ++calls < 4 ? new float[28 * 28] : throw new InvalidOperationException("the explainer failed");
        }));
        Assert.Equal("the explainer failed", failure.Message);
        Assert.Equal(4, calls); // the original, then three layers randomised before the failure
        Assert.Equal(hash, seen[0]);
        Assert.All(seen.Skip(1), h => Assert.StartsWith(hash + "+randomised-to-", h)); // the randomised stages never share the original's cache keys
        Assert.Equal(hash, model.WeightsHash);
        Assert.Equal(weights, Weights(model));
        Assert.NotEqual(weights, RandomisedOnce(engine)); // and randomising does change them (the check above can fail)
    }

    [Fact]
    public void A_map_that_ignores_the_model_is_flagged()
    {
        using var engine = Repo.NewPrivateEngine();
        var model = engine.GetModel("fashion-vgg");
        // An "explanation" that is just the image's brightness: it cannot change when weights are randomised.
        using var input = engine.PrepareInput(model, Image);
        var result = SanityCheck.Run(model, _ => input.Data.ToArray(), maxStages: 3);
        Assert.True(result.Flagged);
        Assert.All(result.Stages, s => Assert.Equal(1, s.RankCorrelation, 9));
    }

    /// <summary>Every parameter's values, in order.</summary>
    private static List<float[]> Weights(Core.Models.CnnModel model) =>
        model.Network.parameters().Select(p => p.detach().contiguous().data<float>().ToArray()).ToList();

    /// <summary>The weights as the first stage of a check leaves them (seen from inside it).</summary>
    private static List<float[]> RandomisedOnce(Engine engine)
    {
        List<float[]>? inside = null;
        var calls = 0;
        SanityCheck.Run(engine.GetModel("fashion-vgg"), m =>
        {
            if (calls++ == 1) inside = Weights(m);
            return new float[28 * 28];
        }, maxStages: 1);
        return inside!;
    }

    /// <summary>Progress reported on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class Inline(Action<ExplainProgress> report) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => report(value);
    }

    [Fact]
    public void Spearman_matches_a_hand_computation()
    {
        Assert.Equal(1, SanityCheck.Spearman([1, 2, 3, 4], [10, 20, 30, 40]), 12);
        Assert.Equal(-1, SanityCheck.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        // ranks of a: 0,1,2,3; of b = [5,5,1,9]: 1.5,1.5,0,3 (ties averaged). Σda·db = 1.5, Σda² = 5, Σdb² = 4.5 → ρ = 1.5/√22.5 ≈ 0.316
        Assert.Equal(1.5 / Math.Sqrt(22.5), SanityCheck.Spearman([1, 2, 3, 4], [5, 5, 1, 9]), 9);
        Assert.True(double.IsNaN(SanityCheck.Spearman([1, 1, 1], [1, 2, 3])));
    }
}
