using System.Net;
using System.Text;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>
    /// The report's gradient views: Grad-CAM and Grad-CAM++ of the top class at the last spatial ReLU (from the cached
    /// activations: no new image forward), then the filter patterns (readable) of the 8 channels there with the largest
    /// Grad-CAM weights: what the class relies on most, and what those channels look for.
    /// </summary>
    private static string ReportGradientViews(Engine engine, CnnModel model, string image, string outDir, ReportScores scores)
    {
        static string E(object? text) => WebUtility.HtmlEncode(text?.ToString() ?? "");
        var layer = model.Layers.LastOrDefault(l => l.IsSpatial && l.Kind == "ReLU") ?? model.Layers.LastOrDefault(l => l.IsSpatial);
        if (layer is null) return "";
        var html = new StringBuilder("<h2>Grad-CAM</h2>\n");
        GradCamResult? cam = null;
        // Two CAMs, not every registered one: each map in the report is also scored (deletion, insertion, ROAD), which
        // on a 224×224 model costs about a hundred forward passes per map.
        foreach (var method in new[] { BaseCam.GradCamMethod, BaseCam.GradCamPlusPlusMethod })
        {
            var result = engine.GradCam(model, image, layer.Name, method: method);
            cam ??= result;
            var file = $"{method.Replace("++", "pp")}-{layer.Name}.png";
            File.WriteAllBytes(Path.Combine(outDir, file), result.OverlayPng);
            html.Append($"<figure style=\"display:inline-block\"><img class=\"pixel\" src=\"{E(file)}\" alt=\"{E(method)}\"><figcaption>{E(method)} of " +
                        $"{E(result.TargetLabel)} (logit {result.Score:F2}) at {E(layer.DisplayName)} (<code>{E(layer.Name)}</code>)" +
                        $"{scores.Under(method, result.Heatmap, result.Target)}</figcaption></figure>\n");
        }
        var strongest = cam!.Weights.Select((w, c) => (w, c)).Where(x => x.w > 0).OrderByDescending(x => x.w).Take(8).Select(x => x.c).ToArray();
        if (strongest.Length == 0) return html.ToString();
        var size = Math.Min(128, Math.Max(model.Input.Height, model.Input.Width));
        var patterns = engine.FilterPatterns(model, layer.Name, strongest, new FilterPatternOptions(Size: size));
        File.WriteAllBytes(Path.Combine(outDir, "filter-patterns.png"), patterns.GridPng);
        html.Append($"<h2>Filter patterns</h2>\n<figure><img class=\"pixel\" src=\"filter-patterns.png\" alt=\"filter patterns\"><figcaption>" +
                    $"The {strongest.Length} channels of {E(layer.DisplayName)} with the largest Grad-CAM weights for {E(cam.TargetLabel)}, " +
                    $"and the input each responds to most ({E(patterns.Preset)} preset, {patterns.Steps} steps, seed {patterns.Seed}; " +
                    $"{patterns.Patterns.Count(p => p.FromCache)} from the cache).</figcaption></figure>\n");
        return html.ToString();
    }
}
