using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>
    /// The method to score and its options. A registry method's options are its flags, except <c>--steps</c>, which
    /// metrics keeps for its own curves (the method then uses its default steps).
    /// </summary>
    private static TrustRequest ReadTrustRequest(CommandLine line)
    {
        var method = line.Require("method", $"one of {string.Join(", ", Engine.TrustMethods)}");
        var options = ExplainerRegistry.Default.Find(method) is { } explainer ? MethodOptions(line, explainer.Info, except: "steps") : null;
        return new(method, line.Option("layer"), Target.Parse(line.Option("target")), line.Option("samples"), line.Int("segments"), line.Int("seed") ?? 0, options);
    }

    /// <summary>metrics --method M IMAGE --out DIR: deletion/insertion curves and AUCs beside a random map's, and the ROAD curves.</summary>
    private static int Metrics(CommandLine line, List<string> images)
    {
        var outDir = line.Require("out", "the folder to write the curves into");
        var request = ReadTrustRequest(line);
        var steps = line.Int("steps") ?? Faithfulness.DefaultSteps;
        if (images.Count != 1) throw CommandLine.Usage("metrics takes exactly one IMAGE.");
        using var engine = OpenEngine(line, out var modelId);
        line.RejectUnknown();
        Output.Folder(outDir);
        var result = engine.Metrics(modelId, images[0], request, steps, StderrProgress("metrics"));
        int[] shape = [result.Map.Fractions.Length];
        NpyWriter.Write(Path.Combine(outDir, "deletion.npy"), result.Map.Deletion.Select(v => (float)v).ToArray(), shape);
        NpyWriter.Write(Path.Combine(outDir, "insertion.npy"), result.Map.Insertion.Select(v => (float)v).ToArray(), shape);
        NpyWriter.Write(Path.Combine(outDir, "random-deletion.npy"), result.Random.Deletion.Select(v => (float)v).ToArray(), shape);
        NpyWriter.Write(Path.Combine(outDir, "random-insertion.npy"), result.Random.Insertion.Select(v => (float)v).ToArray(), shape);
        var road = result.Road!;
        int[] roadShape = [road.Percentages.Length];
        NpyWriter.Write(Path.Combine(outDir, "road-most.npy"), road.MostRelevantFirst.Select(v => (float)v).ToArray(), roadShape);
        NpyWriter.Write(Path.Combine(outDir, "road-least.npy"), road.LeastRelevantFirst.Select(v => (float)v).ToArray(), roadShape);
        File.WriteAllBytes(Path.Combine(outDir, "metrics.png"), result.PlotPng);
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method = result.Method, model = modelId, image = images[0], target = result.Target.ToString(), targetLabel = result.TargetLabel,
            score = result.Score, steps, fractions = result.Map.Fractions,
            deletionAuc = result.Map.DeletionAuc, insertionAuc = result.Map.InsertionAuc,
            random = new { deletionAuc = result.Random.DeletionAuc, insertionAuc = result.Random.InsertionAuc, repeats = 3, seed = request.Seed },
            road = new
            {
                percentages = road.Percentages, original = road.Original,
                mostRelevantFirstAuc = road.MostRelevantFirstAuc, leastRelevantFirstAuc = road.LeastRelevantFirstAuc, combined = road.Combined,
                imputation = $"noisy linear (σ {NoisyLinearImputer.DefaultNoise} in normalised units, seed {request.Seed})",
            },
            files = new object[]
            {
                new { file = "deletion.npy", kind = "npy", description = $"float32 [{shape[0]}]: the target's {result.Score} as pixels are removed in the map's order (black)" },
                new { file = "insertion.npy", kind = "npy", description = $"float32 [{shape[0]}]: the target's {result.Score} as pixels are revealed in the map's order on a blurred copy" },
                new { file = "random-deletion.npy", kind = "npy", description = "the same for random pixel orders (mean of 3)" },
                new { file = "random-insertion.npy", kind = "npy", description = "the same for random pixel orders (mean of 3)" },
                new { file = "road-most.npy", kind = "npy", description = $"float32 [{roadShape[0]}]: ROAD, the target's {result.Score} after removing 10%, 20%, … 90% of the pixels, most relevant first (noisy linear imputation; low is good)" },
                new { file = "road-least.npy", kind = "npy", description = $"float32 [{roadShape[0]}]: the same, least relevant first (high is good)" },
                new { file = "metrics.png", kind = "png", description = "both curves over the random reference's, with their AUCs" },
            },
        });
        Console.Out.WriteLine($"{result.Method} on {Path.GetFileName(images[0])} ({result.TargetLabel}): deletion AUC {result.Map.DeletionAuc:F3} (random {result.Random.DeletionAuc:F3}), " +
                              $"insertion AUC {result.Map.InsertionAuc:F3} (random {result.Random.InsertionAuc:F3}); ROAD most relevant first {road.MostRelevantFirstAuc:F3}, " +
                              $"least relevant first {road.LeastRelevantFirstAuc:F3} (combined {road.Combined:F4}); files in {Path.GetFullPath(outDir)}");
        return 0;
    }

    /// <summary>sanity --method M IMAGE --out DIR: the model-parameter randomisation test.</summary>
    private static int Sanity(CommandLine line, List<string> images)
    {
        var outDir = line.Require("out", "the folder to write the strip into");
        var request = ReadTrustRequest(line);
        var stages = line.Int("stages");
        if (images.Count != 1) throw CommandLine.Usage("sanity takes exactly one IMAGE.");
        using var engine = OpenEngine(line, out var modelId);
        line.RejectUnknown();
        Output.Folder(outDir);
        var result = engine.Sanity(modelId, images[0], request, stages, StderrProgress("sanity"));
        var model = engine.GetModel(modelId);
        var maps = result.Result.Stages.SelectMany(s => s.Map).ToArray();
        NpyWriter.Write(Path.Combine(outDir, "sanity-maps.npy"), maps, [result.Result.Stages.Count, model.Input.Height, model.Input.Width]);
        File.WriteAllBytes(Path.Combine(outDir, "sanity.png"), result.StripPng);
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method = result.Method, model = modelId, image = images[0], target = result.Target.ToString(), targetLabel = result.TargetLabel,
            flagged = result.Result.Flagged, verdict = result.Result.Verdict,
            stages = result.Result.Stages.Select(s => new { randomized = s.Randomized, label = s.Label, rankCorrelation = double.IsNaN(s.RankCorrelation) ? (double?)null : s.RankCorrelation }),
            files = new object[]
            {
                new { file = "sanity-maps.npy", kind = "npy", description = $"float32 [{result.Result.Stages.Count}, {model.Input.Height}, {model.Input.Width}]: the map at each stage, original first" },
                new { file = "sanity.png", kind = "png", description = "the strip of maps over the image" },
            },
        });
        Console.Out.WriteLine(result.Result.Verdict);
        return result.Result.Flagged ? 3 : 0;
    }

    /// <summary>explain --method layer-sweep: Grad-CAM at every conv layer from one forward and one backward.</summary>
    private static void WriteLayerSweep(Engine engine, CommandLine line, string modelId, string image, string outDir)
    {
        var target = Target.Parse(line.Option("target"));
        var cam = line.Option("cam");
        line.RejectUnknown();
        var result = engine.LayerSweep(modelId, image, target, cam);
        var model = engine.GetModel(modelId);
        NpyWriter.Write(Path.Combine(outDir, "layer-sweep.npy"), result.Maps.SelectMany(m => m.Heatmap).ToArray(), [result.Maps.Count, model.Input.Height, model.Input.Width]);
        File.WriteAllBytes(Path.Combine(outDir, "layer-sweep.png"), result.StripPng);
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method = "layer-sweep", model = modelId, image, target = result.Target.ToString(), targetLabel = result.TargetLabel, score = result.Score,
            layers = result.Maps.Select(m => new { m.Layer.Name, m.Layer.DisplayName, lowResShape = m.LowResShape }),
            files = new object[]
            {
                new { file = "layer-sweep.npy", kind = "npy", description = $"float32 [{result.Maps.Count}, {model.Input.Height}, {model.Input.Width}]: Grad-CAM per conv layer, in forward order, normalised" },
                new { file = "layer-sweep.png", kind = "png", description = "the strip, shallow to deep" },
            },
        });
        Console.Out.WriteLine($"Wrote layer-sweep.png, layer-sweep.npy and result.json to {Path.GetFullPath(outDir)}");
    }

    /// <summary>Progress on stderr, one line per report (throttled by the caller's cadence).</summary>
    private static SyncProgress<ExplainProgress> StderrProgress(string what) =>
        new SyncProgress<ExplainProgress>(p => Console.Error.WriteLine($"{what}: {p.Message} ({p.Fraction:P0})"));

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
