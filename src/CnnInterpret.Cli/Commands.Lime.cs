using System.Globalization;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>
    /// explain --method lime [--target N] [--samples N|auto] [--segments N] [--seed S] [--compactness C]
    /// [--baseline gray|mean|blur] [--score probability|logit] [--batch-size N] [--memory-budget MIB] --out DIR:
    /// writes segments.npy [H,W] int32, lime-weights.npy [S], lime.npy [H,W], the pictures and result.json.
    /// Every raw array is always written (--raw changes nothing here).
    /// </summary>
    private static void WriteLime(Engine engine, CommandLine line, string? modelId, string image, string outDir, bool raw)
    {
        var request = ReadSamplingRequest(line, allowLayer: false);
        var quiet = line.Flag("quiet");
        line.RejectUnknown();
        var result = engine.Lime(modelId, image, request, new SamplingConsoleProgress(quiet));
        var lime = result.Result;
        var segments = result.Segments;
        int[] shape = [segments.Height, segments.Width];

        var files = new List<object>();
        void Add(string file, string kind, string description) => files.Add(new { file, kind, description });
        WriteSegments(outDir, result.Segments, result.SegmentsPng, Add);
        NpyWriter.Write(Path.Combine(outDir, "lime-weights.npy"), lime.Fit.Weights.Select(w => (float)w).ToArray(), [segments.Count]);
        Add("lime-weights.npy", "npy", $"float32 [{segments.Count}]: the surrogate's weight of segment i (entry i), in units of the {result.Score}");
        NpyWriter.Write(Path.Combine(outDir, "lime.npy"), result.Map, shape);
        Add("lime.npy", "npy", $"float32 [{shape[0]}, {shape[1]}]: each pixel's segment weight");
        File.WriteAllBytes(Path.Combine(outDir, "lime.png"), result.Png);
        Add("lime.png", "png", "the picture and the weight map: red raises the score, blue lowers it (symmetric scale, legend below)");
        File.WriteAllBytes(Path.Combine(outDir, "lime-top.png"), result.TopPng);
        Add("lime-top.png", "png", $"the top {lime.TopPositive.Length} positive segments, the rest dimmed");
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method = "lime", model = result.Model, image, target = result.Target.ToString(), targetLabel = result.TargetLabel,
            score = result.Score, fx = lime.Score, intercept = lime.Fit.Intercept, r2 = lime.Fit.R2, localPrediction = lime.Fit.LocalPrediction,
            samples = lime.Samples, samplesRequested = request.Samples ?? Lime.DefaultSamples.ToString(CultureInfo.InvariantCulture), seed = lime.Seed,
            baseline = result.Baseline, kernelWidth = 0.25, alpha = 1.0, segments = segments.Count, stability = lime.Stability,
            confidence = double.IsNaN(lime.Confidence) ? (double?)null : lime.Confidence, autoNote = lime.Note,
            topPositive = lime.TopPositive, topNegative = lime.TopNegative, batchSize = result.BatchSize, seconds = Math.Round(result.Seconds, 3), files,
        });
        Console.Out.WriteLine($"LIME of {result.TargetLabel}: {lime.Samples} samples over {segments.Count} segments, R² {lime.Fit.R2:F3}, " +
                              $"stability {lime.Stability:F2}, top segments {string.Join(", ", lime.TopPositive)}; wrote {files.Count} file(s) and result.json to {Path.GetFullPath(outDir)}");
        if (lime.Note is not null) Console.Out.WriteLine(lime.Note);
    }

    /// <summary>The options LIME and SHAP share, read from the command line.</summary>
    private static SamplingRequest ReadSamplingRequest(CommandLine line, bool allowLayer)
    {
        double? compactness = line.Option("compactness") is { } c
            ? double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw CommandLine.Usage($"--compactness must be a number, not '{c}'.")
            : null;
        // --memory-budget is the run's one budget (read for every command in Cli.Run): batches get their share of it.
        return new SamplingRequest(Target.Parse(line.Option("target")), line.Option("samples"), line.Int("segments"), compactness, line.Int("seed"),
            line.Option("baseline"), line.Option("score"), line.Int("batch-size"), null, allowLayer ? line.Option("layer") : null);
    }

    private static void WriteSegments(string outDir, Segmentation segments, byte[] png, Action<string, string, string> add)
    {
        NpyWriter.Write(Path.Combine(outDir, "segments.npy"), segments.Labels, [segments.Height, segments.Width]);
        add("segments.npy", "npy", $"int32 [{segments.Height}, {segments.Width}]: the SLIC superpixel of each pixel at the model's input resolution, ids 0…{segments.Count - 1}");
        File.WriteAllBytes(Path.Combine(outDir, "segments.png"), png);
        add("segments.png", "png", $"the {segments.Count} superpixels' boundaries over the picture");
    }

    /// <summary>One stderr line per partial result (about every second), so a long run on a big model shows it is moving.</summary>
    private sealed class SamplingConsoleProgress(bool quiet) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value)
        {
            if (!quiet) Console.Error.WriteLine(value.Message);
        }
    }
}
