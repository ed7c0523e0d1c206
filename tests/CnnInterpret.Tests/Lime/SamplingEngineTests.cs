using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Tests.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Lime;

/// <summary>LIME, KernelSHAP and GradientSHAP through the engine, on the embedded fashion-vgg and its sample images.</summary>
public sealed class SamplingEngineTests
{
    private static readonly string Boot = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    /// <summary>The model's scores of normalised [1,28,28] images, computed here, independently of the explainers.</summary>
    private static float[][] Forward(IEnumerable<float[]> images)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = stack(images.Select(i => tensor(i, [1, 28, 28])).ToArray());
        var logits = Repo.FashionVgg.Forward(batch).Logits;
        return Enumerable.Range(0, (int)logits.shape[0]).Select(n => logits[n].data<float>().ToArray()).ToArray();
    }

    private static double Softmax(float[] logits, int k) => Math.Exp(logits[k] - logits.Max()) / logits.Sum(l => Math.Exp(l - logits.Max()));

    [Fact]
    public void The_same_request_again_is_answered_from_memory_and_scoring_its_map_does_not_sample_again()
    {
        using var engine = Repo.NewEngine();
        var request = new SamplingRequest(Samples: "300", Seed: 4);
        var first = engine.Lime(null, Boot, request);
        var messages = new List<string>();
        var again = engine.Lime(null, Boot, request with { Target = new Target.Class(9) }, new Collect(messages)); // the top class, named
        Assert.Same(first, again);
        Assert.Equal(2, messages.Count); // a begin and an end, as a fresh run's progress ends
        Assert.Contains("from memory", messages[0]);

        var otherSeed = engine.Lime(null, Boot, request with { Seed = 5 });
        Assert.NotSame(first, otherSeed);
        Assert.NotEqual(first.Result.Fit.Weights, otherSeed.Result.Fit.Weights);

        // What the panel does: show LIME, then score it with the same options. The scored map is that very map.
        var metrics = engine.Metrics(null, Boot, new TrustRequest("lime", Samples: "300", Seed: 4), steps: 4);
        Assert.Same(first.Map, metrics.Heatmap);

        // A cancelled run is not kept: the next identical request samples afresh.
        using var cancel = new CancellationTokenSource();
        var cut = engine.KernelShap(null, Boot, new SamplingRequest(Samples: "20000", BatchSize: 50), new CancelOnFirst(cancel), cancel.Token);
        Assert.True(cut.Cancelled);
        var whole = engine.KernelShap(null, Boot, new SamplingRequest(Samples: "20000", BatchSize: 50));
        Assert.False(whole.Cancelled);
        // 12 of the boot's segments are not all black: 2¹² coalitions cost less than 20000 samples, so it enumerates them.
        Assert.True(whole.Exact);
        Assert.Equal(1 << 12, whole.Samples);
    }

    private sealed class Collect(List<string> messages) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => messages.Add(value.Message);
    }

    private sealed class CancelOnFirst(CancellationTokenSource source) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => source.Cancel();
    }

    [Fact]
    public void Lime_explains_the_top_class_with_one_weight_per_superpixel()
    {
        using var engine = Repo.NewEngine();
        var prediction = engine.Predict(null, Boot);
        var result = engine.Lime(null, Boot, new SamplingRequest(Samples: "400", Seed: 1));
        var s = result.Segments;
        Assert.Equal(new Target.Class(9), result.Target);
        Assert.Equal("Ankle boot", result.TargetLabel);
        Assert.Equal((28, 28), (s.Height, s.Width));
        Assert.Equal(Enumerable.Range(0, s.Count), s.Labels.Distinct().Order());
        Assert.InRange(s.Count, 10, 25);
        Assert.Equal(s.Count, result.Result.Fit.Weights.Length);
        for (var p = 0; p < 784; p++) Assert.Equal((float)result.Result.Fit.Weights[s.Labels[p]], result.Map[p]);
        Assert.Equal(prediction.Top[0].Probability, result.Result.Score, 5);
        Assert.Equal("probability", result.Score);
        Assert.Equal("black", result.Baseline); // fashion-vgg composites onto black: a hidden piece is empty canvas
        Assert.InRange(result.Result.Fit.R2, 0.3, 1);
        Assert.Equal(400, result.Result.Samples);
        using var png = Image.Load<Rgb24>(result.Png);
        Assert.Equal(2 * 224 + 4 + 8, png.Width); // the picture and the map
    }

    [Fact]
    public void Real_model_scores_do_not_depend_on_the_batch_size()
    {
        using var engine = Repo.NewEngine();
        var a = engine.Lime(null, Boot, new SamplingRequest(Samples: "300", Seed: 2, BatchSize: 300)).Result.Fit.Weights;
        var b = engine.Lime(null, Boot, new SamplingRequest(Samples: "300", Seed: 2, BatchSize: 7)).Result.Fit.Weights;
        for (var i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 6);
    }

    [Fact]
    public void KernelShap_explains_the_two_top_classes_and_sums_to_fx_minus_the_blank_image()
    {
        using var engine = Repo.NewEngine();
        var result = engine.KernelShap(null, Boot, new SamplingRequest(Samples: "600"));
        var top = engine.Predict(null, Boot, 2).Top;
        Assert.Equal(top.Select(t => (Target)new Target.Class(t.Index)), result.Targets.Select(t => t.Target));
        // f(all hidden) is the model's probability for a black image: computed here by a plain forward.
        var black = new float[784];
        ImagePreprocessor.NormaliseInPlace(black, Repo.FashionVgg.Input);
        var blank = Forward([black])[0];
        foreach (var t in result.Targets)
        {
            var k = ((Target.Class)t.Target).Index;
            Assert.Equal(top.First(c => c.Index == k).Probability, t.Fx, 5);
            Assert.Equal(Softmax(blank, k), t.FBaseline, 5);
            Assert.Equal(t.Fx - t.FBaseline, t.SegmentValues!.Sum(), 9);
            Assert.Equal(result.Segments.Count, t.SegmentValues!.Length);
        }
        Assert.False(result.Exact);
        Assert.Equal(600, result.Samples);
    }

    [Fact]
    public void GradientShap_uses_the_committed_training_images_as_baselines()
    {
        using var engine = Repo.NewEngine();
        var result = engine.GradientShap(null, Boot, new SamplingRequest(Target: new Target.Class(9), Samples: "64"));
        Assert.Equal("dataset", result.Baseline);
        Assert.Equal("logit", result.Score);
        Assert.Equal([1, 28, 28], result.Shape);
        var (pixels, shape) = NpyReader.ReadBytes(Path.Combine(Repo.Models, "background", "fashion-vgg.npy"));
        Assert.Equal([32, 28, 28], shape);
        var background = Enumerable.Range(0, 32).Select(n =>
        {
            var image = pixels.Skip(n * 784).Take(784).Select(v => v / 255f).ToArray();
            ImagePreprocessor.NormaliseInPlace(image, Repo.FashionVgg.Input);
            return image;
        });
        var expected = Forward(background).Average(l => (double)l[9]);
        var t = Assert.Single(result.Targets);
        Assert.Equal(expected, t.FBaseline, 4);
        Assert.Equal(engine.Predict(null, Boot).Logits[9], t.Fx, 4);
        Assert.Equal(784, t.Values.Length);
        Assert.True(Math.Abs(t.Sum - (t.Fx - t.FBaseline)) < 0.25 * Math.Abs(t.Fx - t.FBaseline), $"Σ {t.Sum} vs {t.Fx - t.FBaseline}");

        var layer = engine.GradientShap(null, Boot, new SamplingRequest(Target: new Target.Class(9), Samples: "64", Layer: "block2_conv1"));
        Assert.Equal("features.5", layer.Layer);
        Assert.Equal([32, 14, 14], layer.Shape);
        Assert.Equal((14, 14), (layer.MapHeight, layer.MapWidth));
        Assert.Equal(t.FBaseline, layer.Targets[0].FBaseline, 4);
    }

    [Fact]
    public void Cancelling_keeps_the_samples_scored_so_far()
    {
        using var engine = Repo.NewEngine();
        using var cancel = new CancellationTokenSource();
        var reports = new List<ExplainProgress>();
        var progress = new Inline(p =>
        {
            reports.Add(p);
            cancel.Cancel(); // on the first partial result
        });
        var result = engine.KernelShap(null, Boot, new SamplingRequest(Samples: "20000", BatchSize: 50), progress, cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(50, result.Samples);
        Assert.IsType<RenderedPartial>(reports[0].Partial);
        Assert.Equal(50, ((RenderedPartial)reports[^1].Partial!).Samples); // the final report repeats the result
        Assert.Equal(reports[^1].Done, reports[^1].Total);
    }

    [Theory]
    [InlineData("lime", "0", null, null, null, "between 10 and 100000")]
    [InlineData("lime", "1000000", null, null, null, "between 10 and 100000")]
    [InlineData("lime", null, 785, null, null, "segments must be between 2 and 500")]
    [InlineData("kernel", null, null, "10", null, "classes 0–9")]
    [InlineData("kernel", null, null, null, "features.0", "'layer' is for GradientSHAP")]
    [InlineData("gradient", null, null, null, "classifier.0", "needs a [channels, height, width] output")]
    [InlineData("gradient", null, null, "features.3:2", "features.5", "no gradient there")]
    [InlineData("gradient", "auto", null, null, "nonsense", "has no layer 'nonsense'")]
    public void Bad_input_is_refused_with_the_valid_range(string method, string? samples, int? segments, string? target, string? layer, string message)
    {
        using var engine = Repo.NewEngine();
        var request = new SamplingRequest(Target.Parse(target), samples, segments, Layer: layer);
        var e = Assert.Throws<CnnInterpretException>(() =>
        {
            if (method == "lime") engine.Lime(null, Boot, request);
            else engine.Shap(null, Boot, method, request);
        });
        Assert.Contains(message, e.Message);
        Assert.Throws<CnnInterpretException>(() => engine.Shap(null, Boot, "deep", new SamplingRequest()));
        Assert.Throws<CnnInterpretException>(() => engine.Lime(null, Boot, new SamplingRequest(Baseline: "purple")));
    }

    private sealed class Inline(Action<ExplainProgress> report) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => report(value);
    }

    [Fact]
    public void Auto_reports_its_confidence_never_passes_its_cap_and_gives_black_background_segments_exactly_zero()
    {
        using var engine = Repo.NewEngine();
        var lime = engine.Lime(null, Boot, new SamplingRequest(Samples: "auto"));
        var shap = engine.KernelShap(null, Boot, new SamplingRequest(Samples: "auto", Target: lime.Target));
        Assert.InRange(lime.Result.Samples, Sampling.AutoMinimum, SampleCount.AutoMax);
        Assert.InRange(lime.Result.Confidence, 0, 1);
        Assert.NotNull(lime.Result.Note);
        Assert.Contains(lime.Result.Confidence >= Sampling.TargetConfidence ? "auto stopped at" : "did not converge within its cap", lime.Result.Note);
        if (lime.Result.Confidence < Sampling.TargetConfidence) Assert.Equal(SampleCount.AutoMax, lime.Result.Samples);
        Assert.InRange(shap.Confidence, 0, 1);
        Assert.NotNull(shap.AutoNote);
        Assert.True(shap.Samples <= SampleCount.AutoMax);

        // Segments that are black all through are black under the black fill too: hiding them changes nothing.
        using var decoded = ImageLoader.Load(Boot, background: Repo.FashionVgg.Input.Background);
        using var input = ImagePreprocessor.Prepare(decoded.Pixels, Repo.FashionVgg.Input);
        var labels = lime.Segments.Labels;
        var blackValue = (0 - Repo.FashionVgg.Input.Mean[0]) / Repo.FashionVgg.Input.Std[0];
        var black = Enumerable.Range(0, lime.Segments.Count).Where(s => Enumerable.Range(0, labels.Length).Where(p => labels[p] == s).All(p => input.Data[p] == blackValue)).ToList();
        Assert.NotEmpty(black);
        Assert.True(black.Count < lime.Segments.Count);
        foreach (var s in black)
        {
            Assert.Equal(0, lime.Result.Fit.Weights[s]);
            Assert.Equal(0, shap.Targets[0].SegmentValues![s]);
        }
        Assert.Equal(shap.Targets[0].Fx - shap.Targets[0].FBaseline, shap.Targets[0].SegmentValues!.Sum(), 9);
    }
}
