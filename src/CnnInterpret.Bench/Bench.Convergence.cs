using System.Diagnostics;
using System.Globalization;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Bench;

public static partial class Bench
{
    /// <summary>The converged answer of issue 14: a run of this many samples of the same method on the same segments.</summary>
    private const int ConvergedReferenceSamples = 10_000;

    /// <summary>The run "converged in a third of the time" is measured against (lime's default).</summary>
    private const int ConvergenceBaselineSamples = 1000;

    /// <summary>
    /// bench section "convergence" (issue 14, item 2): for LIME and KernelSHAP on fashion-vgg (its 30 samples, top
    /// class, probability) and resnet18-imagenet (darknet's photos, top channel of its output, mean activation), with
    /// default segments and fill: the converged answer is a 10,000-sample run (seed 1); a run has converged when
    /// its segment values have Spearman ≥ 0.9 with it and the same top 8 but one (<see cref="Sampling.Converged"/>).
    /// Time-to-converged is the time of a run of N* samples (seed 0), N* the first multiple of 50 from which every
    /// longer run up to 1000 samples has converged (for LIME any prefix of a run is the run with fewer samples, so one
    /// run of 1000 in batches of 50 gives them all; KernelSHAP plans which coalition sizes it enumerates by the samples
    /// asked for, so it runs each count, from 1000 down until one has not converged). Printed per model and method: the median time-to-converged, the median
    /// time of a 1000-sample run and their ratio, what "auto" chose (samples, time, its confidence, and whether its
    /// answer had in fact converged), and the deletion AUC (lower is better) of auto's answer against the 10k run's.
    /// Photos are few by default (a 10k run of ResNet18 takes minutes on 2 cores): --photos N takes more; --images N
    /// takes N of the fashion samples; --reference N changes the converged answer's samples (said in the output);
    /// --methods lime or kernel-shap runs one.
    /// </summary>
    private static void BenchConvergence(bool json, int? photoCount, int? imageCount, int? referenceSamples, string? methodList)
    {
        if (methodList?.Split(',').Except(["lime", "kernel-shap"]).FirstOrDefault() is { } unknown)
            throw CommandLine.Usage($"Unknown method '{unknown}' for --methods; use lime, kernel-shap or both (comma-separated).");
        var figures = new Dictionary<string, object>();
        void Say(string line)
        {
            if (!json) Console.Out.WriteLine(line);
        }

        var loadBefore = LoadAverage();
        using var registry = new ModelRegistry();
        var fashion = registry.Get(ModelRegistry.DefaultModelId);
        var allImages = Directory.GetFiles(Path.Combine(registry.ModelsDirectory, "samples"), "*.png").Order(StringComparer.Ordinal).ToList();
        // --images N: N of them spread evenly (the files are three per class, in class order).
        var count = Math.Clamp(imageCount ?? allImages.Count, 1, allImages.Count);
        var fashionImages = Enumerable.Range(0, count).Select(i => allImages[i * allImages.Count / count]).ToList();
        var referenceCount = referenceSamples ?? ConvergedReferenceSamples;
        var darknet = Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "cnn-interpret", "darknet", "usr", "share", "darknet", "data");
        var allPhotos = Directory.Exists(darknet) ? Directory.GetFiles(darknet, "*.jpg").Order(StringComparer.Ordinal).ToList() : [];
        var photos = allPhotos.Take(photoCount ?? 1).ToList();
        Say($"load average before: {loadBefore} (the machine is shared: compare the ratios, measured in one run, not the seconds)");
        if (count < allImages.Count) Say($"fashion-vgg: {count} of its {allImages.Count} samples (--images)");
        if (referenceCount != ConvergedReferenceSamples) Say($"NOTE: the converged answer is a {referenceCount}-sample run here (--reference), not issue 14's {ConvergedReferenceSamples}");
        Say($"converged = Spearman ≥ {Sampling.ConvergedSpearman} and top {Sampling.TopCount} overlap ≥ {Sampling.TopCount - 1} with a {referenceCount}-sample run of the same method; " +
            $"ratio = median time-to-converged ÷ median time of a {ConvergenceBaselineSamples}-sample run");

        var cases = new List<(string Name, CnnModel Model, List<string> Images)> { ("fashion-vgg", fashion, fashionImages) };
        if (photos.Count > 0)
        {
            cases.Add(("resnet18-imagenet", registry.Get("resnet18-imagenet"), photos));
            Say($"resnet18-imagenet: {photos.Count} of the {allPhotos.Count} darknet photos ({string.Join(", ", photos.Select(Path.GetFileName))}); --photos {allPhotos.Count} runs them all (minutes each)");
        }
        else Say(allPhotos.Count == 0 ? $"resnet18-imagenet: skipped, no darknet photos in {darknet} (scripts/test-deps.sh fetches them)" : "resnet18-imagenet: skipped (--photos 0)");

        foreach (var (name, model, images) in cases)
            foreach (var method in methodList?.Split(',') ?? ["lime", "kernel-shap"])
            {
                var rows = images.Select((image, i) =>
                {
                    var row = ConvergenceOf(model, image, method, referenceCount);
                    Console.Error.WriteLine($"  {name} {method} {i + 1}/{images.Count} {Path.GetFileName(image)}: converged at {Show(row.ConvergedSamples)}, auto {row.AutoSamples} (confidence {row.AutoConfidence:F2}, {(row.AutoConverged ? "converged" : "NOT converged")})");
                    return row;
                }).ToList();
                var summary = ConvergenceSummary.Of(rows);
                figures[$"{name}/{method}"] = summary;
                Say($"{name} {method} ({rows.Count} images, median {summary.Segments} segments, {summary.Inert} inert): " +
                    $"converged at median {Show(summary.ConvergedSamples)} samples in {Seconds(summary.ConvergedSeconds)} vs {ConvergenceBaselineSamples} samples in {Seconds(summary.BaselineSeconds)}: " +
                    $"time ratio {Ratio(summary.Ratio)} (median of per-image ratios {Ratio(summary.MedianImageRatio)}), samples ratio {Ratio(summary.ConvergedSamples / ConvergenceBaselineSamples)}; " +
                    $"{summary.NotConverged} not converged by {ConvergenceBaselineSamples}");
                Say($"    auto: median {summary.AutoSamples} samples in {Seconds(summary.AutoSeconds)} (time {Ratio(summary.AutoRatio)}, samples {Ratio(summary.AutoSamples / ConvergenceBaselineSamples)} of {ConvergenceBaselineSamples}), " +
                    $"reported confidence median {summary.AutoConfidence:F2}, converged against the {referenceCount}-sample run in {summary.AutoConverged} of {rows.Count}, at the cap {summary.AutoCapped}; " +
                    $"deletion AUC mean auto {summary.AutoDeletion:F4} vs {referenceCount} samples {summary.ReferenceDeletion:F4} (auto no worse in {summary.AutoDeletionNoWorse} of {rows.Count})");
            }
        var loadAfter = LoadAverage();
        figures["loadAverage"] = new { before = loadBefore, after = loadAfter };
        Say($"load average after: {loadAfter}");
        if (json) Output.WriteJson(figures);

        static string Show(double samples) => double.IsFinite(samples) ? samples.ToString("F0", CultureInfo.InvariantCulture) : $">{ConvergenceBaselineSamples}";
        static string Seconds(double s) => double.IsFinite(s) ? $"{s:F3} s" : "—";
        static string Ratio(double r) => double.IsFinite(r) ? $"{r:F2}" : "—";
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>One image, one method: what the summary takes medians of. ConvergedSamples is +∞ when 1000 samples did not converge.</summary>
    private sealed record ConvergenceRow(int Segments, int Inert, double ConvergedSamples, double ConvergedSeconds, double BaselineSeconds,
        int AutoSamples, double AutoSeconds, double AutoConfidence, bool AutoConverged, bool AutoCapped, double ReferenceDeletion, double AutoDeletion);

    private sealed record ConvergenceSummary(int Segments, int Inert, double ConvergedSamples, double ConvergedSeconds, double BaselineSeconds, double Ratio,
        double MedianImageRatio, int NotConverged, double AutoSamples, double AutoSeconds, double AutoRatio, double AutoConfidence, int AutoConverged,
        int AutoCapped, double AutoDeletion, double ReferenceDeletion, int AutoDeletionNoWorse)
    {
        public static ConvergenceSummary Of(List<ConvergenceRow> rows)
        {
            var converged = Median(rows.Select(r => r.ConvergedSeconds));
            var baseline = Median(rows.Select(r => r.BaselineSeconds));
            var auto = Median(rows.Select(r => r.AutoSeconds));
            return new ConvergenceSummary((int)Median(rows.Select(r => (double)r.Segments)), (int)Median(rows.Select(r => (double)r.Inert)),
                Median(rows.Select(r => r.ConvergedSamples)), converged, baseline, converged / baseline,
                Median(rows.Select(r => r.ConvergedSeconds / r.BaselineSeconds)), rows.Count(r => !double.IsFinite(r.ConvergedSamples)),
                Median(rows.Select(r => (double)r.AutoSamples)), auto, auto / baseline, Median(rows.Select(r => r.AutoConfidence)),
                rows.Count(r => r.AutoConverged), rows.Count(r => r.AutoCapped), rows.Average(r => r.AutoDeletion), rows.Average(r => r.ReferenceDeletion),
                rows.Count(r => r.AutoDeletion <= r.ReferenceDeletion + 1e-3));
        }

        /// <summary>The median (the mean of the middle two for an even count); +∞ sorts last.</summary>
        private static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            var (low, high) = (sorted[(sorted.Length - 1) / 2], sorted[sorted.Length / 2]);
            return double.IsFinite(low) && double.IsFinite(high) ? (low + high) / 2 : high;
        }
    }

    /// <summary>What a run returned: the first target's segment values, the samples used, "auto"'s confidence.</summary>
    private sealed record SampledValues(double[] Values, int Samples, double Confidence, bool Exact);

    private static ConvergenceRow ConvergenceOf(CnnModel model, string image, string method, int referenceSamples)
    {
        using var decoded = ImageLoader.Load(image, background: model.Input.Background);
        using var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
        var logits = ForwardLogits(model, input.Data);
        var target = Target.Top(model, logits, 1)[0];
        var segmentation = Slic.Segment(input.Display, new SlicOptions(null));
        var fill = SegmentFill.Build(SegmentFill.Default(model.Input), input.Data, model.Input, segmentation);
        var batch = PerturbationScorer.BatchSizeFor(model, CnnInterpret.Core.Memory.MemoryBudget.BatchBytes);
        PerturbationScorer Scorer(int size) => PerturbationScorer.ForModel(model, input.Data, fill, segmentation, [target], ScoreKind.Probability, size);
        var scorer = Scorer(batch);

        SampledValues Run(PerturbationScorer on, SampleCount samples, int seed, Action<AttributionPartial>? partial = null)
        {
            if (method == "lime")
            {
                var lime = Lime.Explain(on, new LimeOptions(samples, seed, PartialInterval: TimeSpan.Zero), partial);
                return new(lime.Fit.Weights, lime.Samples, lime.Confidence, false);
            }
            var shap = KernelShap.Explain(on, new KernelShapOptions(samples, seed, PartialInterval: TimeSpan.Zero), partial);
            return new(shap.Values[0], shap.Samples, shap.Confidence, shap.Exact);
        }
        (SampledValues Result, double Seconds) Timed(SampleCount samples)
        {
            var clock = Stopwatch.StartNew();
            var result = Run(scorer, samples, 0);
            return (result, clock.Elapsed.TotalSeconds);
        }

        var reference = Run(scorer, SampleCount.Of(referenceSamples), 1).Values;

        // The runs with 50, 100, … samples: for LIME the prefixes of one run; for KernelSHAP each on its own (which sizes it
        // enumerates depends on the samples asked for), from the longest down while they converge. KernelSHAP enumerates
        // every coalition when 2^active ≤ the samples asked for; that run is exact, so the sampled runs stop short of it.
        var active = scorer.Active.Length;
        var exactAt = method == "kernel-shap" && active < 31 && 1L << active <= ConvergenceBaselineSamples ? 1 << active : int.MaxValue;
        var longest = Math.Min(ConvergenceBaselineSamples, exactAt - 1);
        var runs = new List<(int Samples, bool Converged)>();
        if (method == "lime" && longest >= SampleCount.Min)
            Run(Scorer(Sampling.AutoStep), SampleCount.Of(longest), 0,
                p => runs.Add((p.Samples, Sampling.Converged(p.Values[0], reference))));
        else
            for (var n = longest; n >= SampleCount.Min; n = (n - 1) / Sampling.AutoStep * Sampling.AutoStep)
            {
                runs.Insert(0, (n, Sampling.Converged(Run(scorer, SampleCount.Of(n), 0).Values, reference)));
                if (!runs[0].Converged) break;
            }
        var firstConverged = double.PositiveInfinity;
        for (var i = runs.Count - 1; i >= 0 && runs[i].Converged; i--) firstConverged = runs[i].Samples;
        if (double.IsPositiveInfinity(firstConverged) && exactAt <= ConvergenceBaselineSamples) firstConverged = exactAt;

        var baseline = Timed(SampleCount.Of(ConvergenceBaselineSamples)).Seconds;
        var convergedSeconds = double.IsFinite(firstConverged) ? Timed(SampleCount.Of(Math.Max(SampleCount.Min, (int)firstConverged))).Seconds : double.PositiveInfinity;
        var (auto, autoSeconds) = Timed(SampleCount.Parse("auto", 0));

        var black = new float[input.Data.Length];
        ImagePreprocessor.NormaliseInPlace(black, model.Input);
        var blurred = GaussianBlur.Apply(input.Data, model.Input.ChannelCount, model.Input.Height, model.Input.Width, GaussianBlur.DefaultSigma(model.Input.Height, model.Input.Width));
        double Deletion(double[] values) =>
            Faithfulness.Curves(model, input.Data, black, blurred, target, Faithfulness.Order(segmentation.Paint(values)), batchSize: batch).DeletionAuc;

        return new ConvergenceRow(segmentation.Count, segmentation.Count - active, firstConverged, convergedSeconds, baseline,
            auto.Samples, autoSeconds, auto.Confidence, Sampling.Converged(auto.Values, reference), !auto.Exact && auto.Samples >= SampleCount.AutoMax - 1,
            Deletion(reference), Deletion(auto.Values));
    }

    private static float[] ForwardLogits(CnnModel model, float[] input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return model.Forward(tensor(input, [1, .. model.Input.InputShape.Select(d => (long)d)])).Logits[0].data<float>().ToArray();
    }
}
