using System.Diagnostics;
using System.Globalization;
using CnnInterpret.Core;
using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Bench;

public static partial class Bench
{
    /// <summary>
    /// The gradient views' figures, on fashion-vgg and on VGG16's architecture with random weights, each measured in
    /// this run: Grad-CAM time ÷ one forward + backward of the same model (target ≤ 1.2), filter patterns for 64
    /// channels one at a time ÷ batched (target ≥ 5), and the time of a filter-pattern cache hit.
    /// </summary>
    private static void BenchGradCam(bool json, List<string> images)
    {
        var registry = new ModelRegistry();
        var image = images.FirstOrDefault() ?? Directory.GetFiles(Path.Combine(registry.ModelsDirectory, "samples"), "*.png").Order().First();
        var figures = new List<object>();
        // fashion-vgg: 64 channels of block3_conv2 at 28×28, the presets' own step counts (readable capped to keep the
        // one-at-a-time loop short; the ratio is per step). VGG16: 64 channels of block2_conv1 at 64×64, 10 steps.
        figures.Add(BenchGradCamModel(registry.Get(ModelRegistry.DefaultModelId), image, "features.13", "features.12", 28, [("classic", 30), ("readable", 32)], json));
        manual_seed(0);
        using var vgg16 = new CnnModel("vgg16-random", "VGG16 (random weights)",
            new Preprocessing("rgb", 256, [224, 224], [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]),
            Enumerable.Range(0, 1000).Select(i => $"class {i}").ToList(), VggArchitecture.Vgg16().BuildLayers());
        figures.Add(BenchGradCamModel(vgg16, image, "features.29", "features.5", 64, [("classic", 10)], json));
        if (json) Output.WriteJson(figures);
    }

    private static object BenchGradCamModel(CnnModel model, string image, string camLayer, string patternLayer, int size,
        (string Preset, int Steps)[] presets, bool json)
    {
        void Say(string line) { if (!json) Console.Out.WriteLine(line); }
        Say($"model {model.Id} ({model.ParameterCount:N0} parameters, {get_num_threads()} torch threads)");
        using var decoded = ImageLoader.Load(image, background: model.Input.Background);
        using var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
        var runs = model.ParameterCount > 10_000_000 ? 5 : 30;

        // One forward + one backward (the class logit's gradient with respect to the input), batch 1.
        double ForwardBackward()
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var x = input.ToBatch().requires_grad_(true);
            var (logits, _) = model.Forward(x);
            autograd.grad([logits[0].max()], [x]);
            return clock.Elapsed.TotalMilliseconds;
        }
        // What a new image needs at least, the bare arithmetic: decode + preprocess, the network up to the layer without
        // gradients (nothing before the layer needs a graph), the rest with them, and one backward from the class logit
        // to the layer. Timed with its disposals, as the Grad-CAM request's time includes its own.
        double DecodeForwardBackward() => Time(() =>
        {
            using var scope = NewDisposeScope();
            using var picture = ImageLoader.Load(image, background: model.Input.Background);
            using var prepared = ImagePreprocessor.Prepare(picture.Pixels, model.Input);
            Tensor activation;
            using (no_grad()) activation = model.ForwardTo(prepared.ToBatch(), camLayer); // as the engine makes its input
            var leaf = activation.detach().requires_grad_(true);
            var (logits, _) = model.ForwardFrom(camLayer, leaf);
            autograd.grad([logits[0].max()], [leaf]);
        });
        var warm = new Engine(new ModelRegistry()) { PatternCache = new FilterPatternCache(Path.Combine(Path.GetTempPath(), "cnn-interpret-bench", Guid.NewGuid().ToString("N"))) };
        // A new image: an engine whose activations cache keeps nothing misses every time, as a daemon does on an image it
        // has not seen (Grad-CAM on a new image does not fill the cache either way).
        var cold = new Engine(new ModelRegistry(), new ActivationCache(budgetBytes: 0));
        warm.GradCam(model, image, camLayer); // fills the activations cache; warms both paths up
        cold.GradCam(model, image, camLayer);
        ForwardBackward();
        DecodeForwardBackward();
        // Interleaved, so a slow spell on a shared machine hits every figure alike; medians.
        var times = new double[7][];
        for (var t = 0; t < times.Length; t++) times[t] = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            times[0][i] = ForwardBackward();
            times[1][i] = Time(() => warm.GradCam(model, image, camLayer, render: false));
            times[2][i] = Time(() => warm.GradCam(model, image, camLayer));
            times[3][i] = Time(() => cold.GradCam(model, image, camLayer, render: false));
            times[4][i] = Time(() => warm.GradCam(model, image, camLayer, method: "grad-cam++", render: false));
            times[5][i] = DecodeForwardBackward();
            // The request as explain/gradCam makes it: the overlay and heatmap PNGs are part of its answer.
            times[6][i] = Time(() => cold.GradCam(model, image, camLayer));
        }
        var (baseline, compute, request, miss, plusPlus) = (Median(times[0]), Median(times[1]), Median(times[2]), Median(times[3]), Median(times[4]));
        var (newImage, missWithPngs) = (Median(times[5]), Median(times[6]));
        Say($"forward + backward:        {baseline:F2} ms (median of {runs})");
        Say($"grad-cam at {camLayer}:   {compute:F2} ms from the cached activations = {compute / baseline:F2}x forward+backward (target <= 1.2); " +
            $"{request:F2} ms with the overlay and heatmap PNGs");
        Say($"grad-cam, new image:       {missWithPngs:F2} ms with the PNGs = {missWithPngs / newImage:F2}x decode + forward + backward to the layer " +
            $"({newImage:F2} ms; target <= 1.2); {miss:F2} ms = {miss / newImage:F2}x without the PNGs");
        Say($"grad-cam++:                {plusPlus:F2} ms = {plusPlus / baseline:F2}x");

        var channels = Enumerable.Range(0, 64).ToArray();
        var patternFigures = new List<object>();
        foreach (var (preset, steps) in presets)
        {
            var options = new FilterPatternOptions(preset, steps, Size: size, UseCache: false);
            warm.FilterPatterns(model, patternLayer, [0], options with { Steps = 2 }); // warm-up
            var batched = Time(() => warm.FilterPatterns(model, patternLayer, channels, options));
            var single = Time(() => warm.FilterPatterns(model, patternLayer, channels, options with { BatchSize = 1 }));
            // The default batch beside smaller ones: where a model's activations outgrow the caches.
            var partial = PartialBatchSizes.Select(b => (Batch: b, Ms: Time(() => warm.FilterPatterns(model, patternLayer, channels, options with { BatchSize = b })))).ToList();
            warm.FilterPatterns(model, patternLayer, channels, options with { UseCache = true }); // fills the disk cache
            var passes = warm.FilterPatternPasses;
            var hit = Median(Enumerable.Range(0, 5).Select(_ => Time(() => warm.FilterPatterns(model, patternLayer, channels, options with { UseCache = true }))).ToArray());
            if (warm.FilterPatternPasses != passes) throw new InvalidOperationException("a cache hit ran the network");
            Say($"filter patterns, {preset} ({steps} steps, {size}x{size}), 64 channels of {patternLayer}: batched {batched / 1000:F2} s, " +
                $"one at a time {single / 1000:F2} s: {single / batched:F1}x faster batched (target >= 5); " +
                string.Join(", ", partial.Select(p => $"batches of {p.Batch}: {p.Ms / 1000:F2} s")) + $"; cache hit {hit:F1} ms");
            patternFigures.Add(new { preset, steps, size, layer = patternLayer, batchedMs = Math.Round(batched), oneAtATimeMs = Math.Round(single),
                speedup = Math.Round(single / batched, 1), batchesMs = partial.ToDictionary(p => p.Batch.ToString(CultureInfo.InvariantCulture), p => Math.Round(p.Ms)),
                cacheHitMs = Math.Round(hit, 1) });
        }
        try { Directory.Delete(warm.PatternCache.Directory, recursive: true); } catch (IOException) { }
        return new
        {
            model = model.Id, camLayer, forwardBackwardMs = Math.Round(baseline, 3),
            gradCamMs = Math.Round(compute, 3), gradCamRatio = Math.Round(compute / baseline, 2), gradCamWithPngsMs = Math.Round(request, 3),
            gradCamUncachedMs = Math.Round(miss, 3), decodeForwardBackwardMs = Math.Round(newImage, 3), gradCamUncachedRatio = Math.Round(miss / newImage, 2),
            gradCamUncachedWithPngsMs = Math.Round(missWithPngs, 3), gradCamUncachedWithPngsRatio = Math.Round(missWithPngs / newImage, 2),
            gradCamPlusPlusMs = Math.Round(plusPlus, 3), filterPatterns = patternFigures,
        };
    }

    /// <summary>Filter-pattern batch sizes timed besides all channels in one batch and one at a time.</summary>
    private static readonly int[] PartialBatchSizes = [4, 16];

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
}
