using System.Net;
using System.Text;
using CnnInterpret.Core;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>
    /// The report's sampling views: the superpixels, LIME for the top class, KernelSHAP and GradientSHAP for the two
    /// most probable classes side by side on one signed scale. Small inputs use each method's default samples; large
    /// ones (a photo model on a CPU) fewer, said in the captions, so a report stays minutes, not an hour.
    /// </summary>
    private static string ReportSamplingViews(Engine engine, CnnModel model, string image, string outDir, ReportScores scores)
    {
        static string E(object? text) => WebUtility.HtmlEncode(text?.ToString() ?? "");
        var large = model.Input.Height * model.Input.Width > 100 * 100;
        var lime = engine.Lime(model.Id, image, new SamplingRequest(Samples: large ? "300" : null));
        File.WriteAllBytes(Path.Combine(outDir, "segments.png"), lime.SegmentsPng);
        File.WriteAllBytes(Path.Combine(outDir, "lime.png"), lime.Png);
        File.WriteAllBytes(Path.Combine(outDir, "lime-top.png"), lime.TopPng);
        var fit = lime.Result.Fit;
        var html = new StringBuilder("<h2>LIME</h2>\n");
        html.Append($"<figure style=\"display:inline-block\"><img class=\"pixel\" src=\"segments.png\" alt=\"superpixels\"><figcaption>{lime.Segments.Count} SLIC superpixels</figcaption></figure>\n" +
                    $"<figure style=\"display:inline-block\"><img class=\"pixel\" src=\"lime-top.png\" alt=\"LIME top segments\"><figcaption>the top {lime.Result.TopPositive.Length} segments for {E(lime.TargetLabel)}</figcaption></figure>\n" +
                    $"<figure><img class=\"pixel\" src=\"lime.png\" alt=\"LIME weights\"><figcaption>LIME weights for {E(lime.TargetLabel)} ({lime.Score}; red raises it, blue lowers it): " +
                    $"{lime.Result.Samples} samples, hidden segments {lime.Baseline}, surrogate R² {fit.R2:F2}, top-segment agreement between halves {lime.Result.Stability:F2}, {lime.Seconds:F1} s" +
                    $"{scores.Under("lime", lime.Map, lime.Target)}</figcaption></figure>\n");

        html.Append("<h2>SHAP</h2>\n");
        foreach (var (method, samples) in new[] { ("kernel", large ? "300" : null), ("gradient", large ? "32" : null) })
        {
            var shap = engine.Shap(model.Id, image, method, new SamplingRequest(Samples: samples));
            var file = $"{method}-shap.png";
            File.WriteAllBytes(Path.Combine(outDir, file), shap.Png);
            var sums = string.Join("; ", shap.Targets.Select(t => $"{E(t.Label)}: Σ {t.Sum:G3} vs f(x) − f(baseline) = {t.Fx - t.FBaseline:G3}"));
            html.Append($"<figure><img class=\"pixel\" src=\"{file}\" alt=\"{method} SHAP\"><figcaption>{(method == "kernel" ? "KernelSHAP over superpixels" : "GradientSHAP (expected gradients)")} " +
                        $"for {string.Join(" and ", shap.Targets.Select(t => E(t.Label)))}, one signed scale (±{shap.Limit:G3}, {shap.Score}): {shap.Samples} samples{(shap.Exact ? " (exact)" : "")}, " +
                        $"baseline {shap.Baseline}; {sums}; {shap.Seconds:F1} s" +
                        $"{scores.Under($"{method}-shap", shap.Targets[0].Map, shap.Targets[0].Target)}</figcaption></figure>\n");
        }
        return html.ToString();
    }
}
