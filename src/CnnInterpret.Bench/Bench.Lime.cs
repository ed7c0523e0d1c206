using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace CnnInterpret.Bench;

public static partial class Bench
{
    private const string LimeChildVariable = "CNN_INTERPRET_BENCH_LIME_CHILD";

    /// <summary>Kernel SHAP sample budgets whose error against the exact values the bench tabulates.</summary>
    private static readonly int[] ShapErrorBudgets = [32, 64, 128, 256, 512, 1024, 2048];

    /// <summary>Gradient SHAP sample counts whose efficiency gap the bench measures.</summary>
    private static readonly int[] GradientShapSampleCounts = [32, 128, 512];

    /// <summary>
    /// bench section "lime": (1) LIME and KernelSHAP samples/s ÷ raw batched-forward samples/s of the same model and
    /// batch size, in this process, on VGG16 (random weights, 224×224) and fashion-vgg; (2) peak RSS (VmHWM) of a
    /// fresh process running LIME on VGG16 at 100, 300 and 1000 samples (CNN_INTERPRET_BENCH_LIME_MEMORY overrides the
    /// counts); (3) KernelSHAP's error against exact Shapley values at equal budgets, paired vs plain; (4) the samples
    /// "auto" needs for a stable top-8 against lime's default 1000; (5) how closely GradientSHAP's efficiency holds.
    /// </summary>
    private static void BenchLime(bool json)
    {
        if (Environment.GetEnvironmentVariable(LimeChildVariable) is { } child)
        {
            LimeMemoryChild(int.Parse(child, CultureInfo.InvariantCulture));
            return;
        }
        var figures = new Dictionary<string, object>();
        void Say(string line)
        {
            if (!json) Console.Out.WriteLine(line);
        }

        using var registry = new ModelRegistry();
        var fashion = registry.Get(ModelRegistry.DefaultModelId);
        var samplesDir = Path.Combine(registry.ModelsDirectory, "samples");
        var images = Directory.GetFiles(samplesDir, "*.png").Order().ToList();

        // (1) Throughput against raw batched forwards.
        using (var vgg = Vgg16Random())
        using (var picture = SyntheticPhoto())
        {
            var speed = Throughput(vgg, picture, samples: 18, rounds: 3);
            figures["vgg16"] = speed;
            Say($"VGG16 (random weights, 224×224, batch {speed.Batch}): raw forward {speed.Forward:F2} samples/s; LIME {speed.Lime:F2} ({speed.Lime / speed.Forward:F2}×); KernelSHAP {speed.Kernel:F2} ({speed.Kernel / speed.Forward:F2}×)");
        }
        using (var decoded = ImageLoader.Load(images[0], background: fashion.Input.Background))
        {
            var speed = Throughput(fashion, decoded.Pixels, samples: 2048, rounds: 3);
            figures["fashionVgg"] = speed;
            Say($"fashion-vgg (28×28, batch {speed.Batch}): raw forward {speed.Forward:F0} samples/s; LIME {speed.Lime:F0} ({speed.Lime / speed.Forward:F2}×); KernelSHAP {speed.Kernel:F0} ({speed.Kernel / speed.Forward:F2}×)");
        }

        // (2) Peak memory, one fresh process per sample count.
        var counts = (Environment.GetEnvironmentVariable("CNN_INTERPRET_BENCH_LIME_MEMORY") ?? "100,300,1000")
            .Split(',', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList();
        var memory = counts.Select(RunLimeMemoryChild).ToList();
        figures["memory"] = memory;
        foreach (var m in memory)
            Say($"LIME on VGG16, {m.GetProperty("samples")} samples (batch {m.GetProperty("batch")}): peak RSS {m.GetProperty("peakMiB")} MiB " +
                $"(after loading and one batch: {m.GetProperty("warmMiB")} MiB; {m.GetProperty("seconds")} s)");

        // (3) KernelSHAP against exact Shapley values, paired vs plain, at equal numbers of model evaluations.
        var errors = KernelShapErrors(fashion, images[0]);
        figures["kernelShapError"] = errors;
        Say($"KernelSHAP relative L2 error vs exact Shapley values ({errors.Segments} segments, 2^{errors.Segments} = {1 << errors.Segments} coalitions; mean of {errors.Seeds} seeds):");
        foreach (var row in errors.Rows) Say($"  {row.Budget,5} evaluations: paired {row.Paired:F3}, plain {row.Plain:F3} ({row.Plain / row.Paired:F1}× worse)");

        // (4) Samples for a stable top 8.
        var stable = StableSamples(fashion, images);
        figures["stableTop8"] = stable;
        Say($"LIME 'auto' on the {images.Count} fashion samples stops at median {stable.Median} samples (mean {stable.Mean:F0}, max {stable.Max}, {stable.Capped} at the {SampleCount.AutoMax} cap) vs lime's default 1000; " +
            $"top-8 agreement between halves at 1000 samples: {stable.AgreementAt1000:F2}; KernelSHAP 'auto' median {stable.KernelMedian}");

        // (5) GradientSHAP efficiency.
        var gaps = GradientGaps(fashion, images, registry.ModelsDirectory);
        figures["gradientShapEfficiency"] = gaps;
        foreach (var (samples, gap) in gaps) Say($"GradientSHAP, {samples} samples: |Σφ − (f(x) − E f(x′))| / |f(x) − E f(x′)| = {gap:P1} (mean over the samples, dataset baselines)");
        if (json) Output.WriteJson(figures);
    }

    private sealed record Speed(int Batch, double Forward, double Lime, double Kernel);

    private static CnnModel Vgg16Random() =>
        new("vgg16-random", "VGG16 (random weights)", new Preprocessing("rgb", 256, [224, 224], [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]),
            Enumerable.Range(0, 1000).Select(i => $"class {i}").ToList(), VggArchitecture.Vgg16().BuildLayers());

    /// <summary>A seeded 224×224 picture of overlapping coloured discs: enough structure for SLIC.</summary>
    private static Image<Rgb24> SyntheticPhoto()
    {
        var random = new Random(1);
        var discs = Enumerable.Range(0, 40).Select(_ => (X: random.Next(224), Y: random.Next(224), R: random.Next(12, 60), C: new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)))).ToList();
        var image = new Image<Rgb24>(224, 224);
        for (var y = 0; y < 224; y++)
            for (var x = 0; x < 224; x++)
                image[x, y] = discs.LastOrDefault(d => (x - d.X) * (x - d.X) + (y - d.Y) * (y - d.Y) < d.R * d.R, (X: 0, Y: 0, R: 0, C: new Rgb24(120, 130, 140))).C;
        return image;
    }

    /// <summary>The scorer LIME and KernelSHAP use (for the top class), for a picture already at the model's input size.</summary>
    private static (PerturbationScorer Scorer, float[] Input) ScorerFor(CnnModel model, Image<Rgb24> picture, int? segments = null, int? batch = null)
    {
        var input = ImagePreprocessor.Normalise(picture, model.Input);
        var logits = Forward(model, input);
        var top = Array.IndexOf(logits, logits.Max());
        var segmentation = Slic.Segment(picture, new SlicOptions(segments));
        var fill = SegmentFill.Build(SegmentFill.Default(model.Input), input, model.Input, segmentation);
        var size = batch ?? PerturbationScorer.BatchSizeFor(model, CnnInterpret.Core.Memory.MemoryBudget.BatchBytes);
        return (PerturbationScorer.ForModel(model, input, fill, segmentation, [new Target.Class(top)], ScoreKind.Probability, size), input);
    }

    private static Speed Throughput(CnnModel model, Image<Rgb24> picture, int samples, int rounds)
    {
        var (scorer, input) = ScorerFor(model, picture);
        var batch = scorer.BatchSize;
        double Raw()
        {
            using var _ = no_grad();
            var clock = Stopwatch.StartNew();
            for (var done = 0; done < samples; done += batch)
            {
                using var scope = NewDisposeScope();
                var x = tensor(input, [1, .. model.Input.InputShape.Select(d => (long)d)]).expand(Math.Min(batch, samples - done), -1, -1, -1).contiguous();
                model.Forward(x);
            }
            return samples / clock.Elapsed.TotalSeconds;
        }
        double Timed(Action run)
        {
            var clock = Stopwatch.StartNew();
            run();
            return samples / clock.Elapsed.TotalSeconds;
        }
        Raw(); // warm-up
        // Rounds of raw, LIME, KernelSHAP in turn: a machine shared with other work slows all three alike.
        double raw = 0, lime = 0, kernel = 0;
        for (var round = 0; round < rounds; round++)
        {
            raw += 1 / Raw();
            lime += 1 / Timed(() => Lime.Explain(scorer, new LimeOptions(SampleCount.Of(samples), round)));
            kernel += 1 / Timed(() => KernelShap.Explain(scorer, new KernelShapOptions(SampleCount.Of(samples), round)));
        }
        return new Speed(batch, rounds / raw, rounds / lime, rounds / kernel);
    }

    /// <summary>Runs this command again as a child with <see cref="LimeChildVariable"/> set, and reads its one JSON line.</summary>
    private static JsonElement RunLimeMemoryChild(int samples)
    {
        var self = Environment.ProcessPath!;
        var start = Path.GetFileNameWithoutExtension(self) == "dotnet"
            ? new ProcessStartInfo(self, [typeof(Bench).Assembly.Location, "--only", "lime"])
            : new ProcessStartInfo(self, ["--only", "lime"]);
        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        start.Environment[LimeChildVariable] = samples.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new CnnInterpretException(ErrorKind.Internal, $"The memory benchmark child ({samples} samples) failed with exit code {process.ExitCode}.");
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    /// <summary>In the child: LIME on VGG16 with <paramref name="samples"/> samples; prints the peak resident set.</summary>
    private static void LimeMemoryChild(int samples)
    {
        using var model = Vgg16Random();
        using var picture = SyntheticPhoto();
        var (scorer, _) = ScorerFor(model, picture);
        var warmMasks = Lime.Masks(scorer.Segments, scorer.BatchSize, new Random(0));
        scorer.Score(warmMasks, new double[scorer.BatchSize], 0, scorer.BatchSize, CancellationToken.None);
        var warm = StatusKiB("VmHWM:");
        var clock = Stopwatch.StartNew();
        var result = Lime.Explain(scorer, new LimeOptions(SampleCount.Of(samples)));
        Console.Out.WriteLine(JsonSerializer.Serialize(new
        {
            samples = result.Samples, batch = scorer.BatchSize, segments = scorer.Segments,
            warmMiB = warm / 1024, peakMiB = StatusKiB("VmHWM:") / 1024, seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
        }));
    }

    private static long StatusKiB(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    private sealed record ErrorRow(int Budget, double Paired, double Plain);

    private sealed record ErrorTable(int Segments, int Seeds, List<ErrorRow> Rows);

    /// <summary>Every coalition of ~12 segments scored once; sampled KernelSHAP then reads from that table, so budgets cost no forwards.</summary>
    private static ErrorTable KernelShapErrors(CnnModel model, string image)
    {
        using var decoded = ImageLoader.Load(image, background: model.Input.Background);
        var (scorer, _) = ScorerFor(model, decoded.Pixels, segments: 12, batch: 256);
        int m = scorer.Segments, count = 1 << m;
        var all = new byte[count * m];
        for (var c = 0; c < count; c++)
            for (var j = 0; j < m; j++) all[c * m + j] = (byte)(c >> j & 1);
        var table = new double[count];
        scorer.Score(all, table, 0, count, CancellationToken.None);
        var exact = KernelShap.Shapley(m, c => table[c]);
        var lookup = new PerturbationScorer(m, 1, 256, (masks, start, n) => Enumerable.Range(start, n).Select(r =>
        {
            var c = 0;
            for (var j = 0; j < m; j++) c |= masks[r * m + j] << j;
            return table[c];
        }).ToArray());
        double Error(int budget, bool paired, int seed)
        {
            var values = KernelShap.Explain(lookup, new KernelShapOptions(SampleCount.Of(budget), seed, paired)).Values[0];
            return Math.Sqrt(values.Zip(exact, (a, b) => (a - b) * (a - b)).Sum() / exact.Sum(v => v * v));
        }
        const int seeds = 20;
        var rows = ShapErrorBudgets.Where(b => b < count)
            .Select(b => new ErrorRow(b, Enumerable.Range(0, seeds).Average(s => Error(b, true, s)), Enumerable.Range(0, seeds).Average(s => Error(b, false, s)))).ToList();
        return new ErrorTable(m, seeds, rows);
    }

    private sealed record StableFigures(int Median, double Mean, int Max, int Capped, double AgreementAt1000, int KernelMedian);

    private static StableFigures StableSamples(CnnModel model, List<string> images)
    {
        var stops = new List<int>();
        var kernelStops = new List<int>();
        var agreement = new List<double>();
        foreach (var image in images)
        {
            using var decoded = ImageLoader.Load(image, background: model.Input.Background);
            using var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
            var (scorer, _) = ScorerFor(model, input.Display);
            stops.Add(Lime.Explain(scorer, new LimeOptions(SampleCount.Parse("auto", 0))).Samples);
            kernelStops.Add(KernelShap.Explain(scorer, new KernelShapOptions(SampleCount.Parse("auto", 0))).Samples);
            agreement.Add(Lime.Explain(scorer, new LimeOptions(SampleCount.Of(1000))).Stability);
        }
        stops.Sort();
        kernelStops.Sort();
        return new StableFigures(stops[stops.Count / 2], stops.Average(), stops[^1], stops.Count(s => s >= SampleCount.AutoMax), agreement.Average(), kernelStops[kernelStops.Count / 2]);
    }

    private static List<(int Samples, double Gap)> GradientGaps(CnnModel model, List<string> images, string modelsDirectory)
    {
        var baselines = ShapBaselines.Build("dataset", model, [], modelsDirectory, 0);
        return GradientShapSampleCounts.Select(samples => (samples, images.Average(image =>
        {
            using var decoded = ImageLoader.Load(image, background: model.Input.Background);
            using var input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
            var logits = Predictions.FromLogits(Forward(model, input.Data), model.Classes, 1);
            var result = GradientShap.Explain(model, input.Data, baselines, [new Target.Class(logits.Top[0].Index)],
                new GradientShapOptions(SampleCount.Of(samples), BatchSize: 128));
            return Math.Abs(result.EfficiencyGap[0]) / Math.Abs(result.Fx[0] - result.FBaseline[0]);
        }))).ToList();
    }

    private static float[] Forward(CnnModel model, float[] input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return model.Forward(tensor(input, [1, .. model.Input.InputShape.Select(d => (long)d)])).Logits[0].data<float>().ToArray();
    }
}
