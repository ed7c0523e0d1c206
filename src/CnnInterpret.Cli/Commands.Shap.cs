using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>
    /// explain --method kernel-shap|gradient-shap [--target N] [--samples N|auto] [--segments N] [--seed S] [--layer L]
    /// [--baseline B] [--score probability|logit] [--batch-size N] [--memory-budget MIB] --out DIR. KernelSHAP writes
    /// segments.npy, shap-values.npy [S], shap.npy [H,W] (also as kernel-shap.npy); GradientSHAP writes gradient-shap.npy ([C,H,W] of the input
    /// or the layer); both write shap.png and result.json. Without --target the two most probable classes are
    /// explained: the files above hold the first, "-second" files the second. Every raw array is always written.
    /// </summary>
    private static void WriteShap(Engine engine, CommandLine line, string? modelId, string image, string outDir, string method)
    {
        var request = ReadSamplingRequest(line, allowLayer: method == "gradient-shap");
        var quiet = line.Flag("quiet");
        line.RejectUnknown();
        var kernel = method == "kernel-shap";
        var result = engine.Shap(modelId, image, kernel ? "kernel" : "gradient", request, new SamplingConsoleProgress(quiet));

        var files = new List<object>();
        void Add(string file, string kind, string description) => files.Add(new { file, kind, description });
        WriteSegments(outDir, result.Segments, result.SegmentsPng, Add);
        for (var i = 0; i < result.Targets.Count; i++)
        {
            var t = result.Targets[i];
            var suffix = i == 0 ? "" : "-second";
            var who = $"{t.Label} (target {t.Target})";
            if (kernel)
            {
                NpyWriter.Write(Path.Combine(outDir, $"shap-values{suffix}.npy"), t.SegmentValues!.Select(v => (float)v).ToArray(), [result.Segments.Count]);
                Add($"shap-values{suffix}.npy", "npy", $"float32 [{result.Segments.Count}]: the Shapley value of segment i (entry i) for {who}; they sum to fx − fbaseline");
                // shap.npy is the older name; kernel-shap.npy follows every method's <method>.npy. Both stay: outside tools read either.
                foreach (var name in new[] { "shap", "kernel-shap" })
                {
                    NpyWriter.Write(Path.Combine(outDir, $"{name}{suffix}.npy"), t.Map, [result.MapHeight, result.MapWidth]);
                    Add($"{name}{suffix}.npy", "npy", $"float32 [{result.MapHeight}, {result.MapWidth}]: each pixel's segment value for {who}");
                }
            }
            else
            {
                NpyWriter.Write(Path.Combine(outDir, $"gradient-shap{suffix}.npy"), t.Values, result.Shape);
                Add($"gradient-shap{suffix}.npy", "npy", $"float32 [{string.Join(", ", result.Shape)}]: expected-gradients attributions of {(result.Layer is null ? "each input value" : $"each value of {result.Layer}'s output")} for {who}");
            }
        }
        File.WriteAllBytes(Path.Combine(outDir, "shap.png"), result.Png);
        Add("shap.png", "png", $"the picture, then the map of {string.Join(", then ", result.Targets.Select(t => t.Label))}, on one symmetric scale ±{result.Limit:G3} (red raises the score, blue lowers it)");
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method, model = result.Model, image, score = result.Score, samples = result.Samples, seed = result.Seed, baseline = result.Baseline,
            segments = result.Segments.Count, exact = kernel ? result.Exact : (bool?)null, paired = kernel ? result.Paired : (bool?)null,
            layer = result.Layer, stability = result.Stability, batchSize = result.BatchSize, seconds = Math.Round(result.Seconds, 3),
            confidence = double.IsNaN(result.Confidence) ? (double?)null : result.Confidence, autoNote = result.AutoNote,
            fx = result.Targets[0].Fx, fbaseline = result.Targets[0].FBaseline,
            targets = result.Targets.Select(t => new
            {
                target = t.Target.ToString(), label = t.Label, fx = t.Fx, fbaseline = t.FBaseline, sum = t.Sum,
                efficiencyGap = t.Sum - (t.Fx - t.FBaseline),
                relativeEfficiencyGap = t.Fx != t.FBaseline ? (t.Sum - (t.Fx - t.FBaseline)) / Math.Abs(t.Fx - t.FBaseline) : 0,
            }),
            limit = result.Limit, files,
        });
        var first = result.Targets[0];
        Console.Out.WriteLine($"{(kernel ? "KernelSHAP" : "GradientSHAP")} of {string.Join(" and ", result.Targets.Select(t => t.Label))}: {result.Samples} samples" +
                              $"{(result.Exact ? " (exact)" : "")}, Σ = {first.Sum:G4} vs fx − fbaseline = {first.Fx - first.FBaseline:G4}; " +
                              $"wrote {files.Count} file(s) and result.json to {Path.GetFullPath(outDir)}");
        if (result.AutoNote is not null) Console.Out.WriteLine(result.AutoNote);
    }
}
