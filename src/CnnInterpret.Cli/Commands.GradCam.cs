using System.Globalization;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>
    /// explain --method grad-cam|grad-cam++ --layer L [--target N|LAYER:C] [--colormap C] [--opacity O]: writes the overlay,
    /// the plain heatmap, grad-cam.npy [H,W] (normalised, input resolution), grad-cam-lowres.npy [h,w] (after the ReLU,
    /// before normalisation) and result.json; --raw adds the channel weights.
    /// </summary>
    private static void WriteGradCam(Engine engine, CommandLine line, string? modelId, string image, string outDir, bool raw, string method)
    {
        // Without --layer, the last conv layer, as every other CAM of the registry.
        var layer = line.Option("layer") ?? Engine.DefaultCamLayer(engine.GetModel(modelId));
        var target = Target.Parse(line.Option("target"));
        var opacity = line.Option("opacity") is { } o ? ParseOpacity(o) : 0.5;
        var overlay = new OverlayOptions(line.Option("colormap") ?? "viridis", opacity);
        line.RejectUnknown();
        var model = engine.GetModel(modelId);
        var result = engine.GradCam(model, image, layer, target, method, overlay);

        var files = new List<object>();
        void Add(string file, string kind, string description) => files.Add(new { file, kind, description });
        File.WriteAllBytes(Path.Combine(outDir, "grad-cam-overlay.png"), result.OverlayPng);
        Add("grad-cam-overlay.png", "png", $"the {result.Method} map over the picture the model saw ({overlay.Colormap}, opacity {overlay.Opacity})");
        File.WriteAllBytes(Path.Combine(outDir, "grad-cam.png"), result.HeatmapPng);
        Add("grad-cam.png", "png", $"the {result.Method} map alone ({overlay.Colormap}: dark = 0, bright = 1)");
        NpyWriter.Write(Path.Combine(outDir, "grad-cam.npy"), result.Heatmap, result.HeatmapShape);
        Add("grad-cam.npy", "npy", $"float32 [{result.HeatmapShape[0]}, {result.HeatmapShape[1]}]: the map at the model's input resolution, min-max normalised to [0,1] (bilinear, align_corners=false)");
        if (result.Method != BaseCam.GradCamMethod)
        {
            NpyWriter.Write(Path.Combine(outDir, $"{result.Method}.npy"), result.Heatmap, result.HeatmapShape);
            Add($"{result.Method}.npy", "npy", "the same map as grad-cam.npy, under the method's own name");
        }
        NpyWriter.Write(Path.Combine(outDir, "grad-cam-lowres.npy"), result.LowRes, result.LowResShape);
        Add("grad-cam-lowres.npy", "npy", $"float32 [{result.LowResShape[0]}, {result.LowResShape[1]}]: the map at the layer's resolution, after the ReLU, before normalisation");
        if (raw)
        {
            NpyWriter.Write(Path.Combine(outDir, "grad-cam-weights.npy"), result.Weights, [result.Weights.Length]);
            Add("grad-cam-weights.npy", "npy", $"float32 [{result.Weights.Length}]: each channel's weight α_k");
        }
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method = result.Method, model = model.Id, image, layer = result.Layer,
            target = result.Target.ToString(), targetLabel = result.TargetLabel, score = result.Score,
            scoreKind = result.Target is Target.Class ? "logit (pre-softmax)" : "mean activation of the channel",
            shape = result.HeatmapShape, lowResShape = result.LowResShape, empty = result.Empty, hint = result.Hint, files,
        });
        Console.Out.WriteLine($"{result.Method} of {result.TargetLabel} (score {result.Score:F3}) at {result.Layer.Name} ({result.Layer.DisplayName}): " +
                              $"wrote {files.Count} file(s) and result.json to {Path.GetFullPath(outDir)}");
        if (result.Hint is { } hint) Console.Error.WriteLine($"note: {hint}");
    }

    private static double ParseOpacity(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw CommandLine.Usage($"--opacity must be a number between 0 and 1, not '{text}'.");
}
