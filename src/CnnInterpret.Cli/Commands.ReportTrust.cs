using System.Net;
using System.Text;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>Every explanation view a report draws and scores, in the order its pages and index show them.</summary>
    private static readonly string[] ReportedMethods = ["grad-cam", "grad-cam++", "lime", "kernel-shap", "gradient-shap"];

    /// <summary>
    /// Scores the maps a report draws, where they are drawn: deletion/insertion AUCs beside a random map's. The maps are
    /// the views' own (nothing is recomputed) and the random reference is computed once per target and shared (it does not
    /// depend on the map), so scoring five views costs 5 × 2 × (steps + 1) forward images plus the reference's 3 × 2 × (steps + 1).
    /// Large inputs (a photo model on a CPU) use 16 steps instead of 32, said on the page.
    /// </summary>
    private sealed class ReportScores(Engine engine, CnnModel model, string image, string outDir)
    {
        private readonly Dictionary<Target, FaithfulnessCurves> _random = [];

        public List<MetricsResult> Results { get; } = [];

        public int Steps { get; } = model.Input.Height * model.Input.Width > 100 * 100 ? 16 : Faithfulness.DefaultSteps;

        /// <summary>Scores one view's map and writes its curves; returns the line to show under the view.</summary>
        public string Under(string method, float[] map, Target target)
        {
            var result = engine.ScoreMap(model, image, method, map, target, _random.GetValueOrDefault(target), Steps);
            _random[target] = result.Random;
            Results.Add(result);
            File.WriteAllBytes(Path.Combine(outDir, PlotFile(method)), result.PlotPng);
            return $"<div class=\"score\">{ScoreText(result)} <img src=\"{PlotFile(method)}\" alt=\"{WebUtility.HtmlEncode(method)} deletion and insertion curves\" height=\"50\"></div>";
        }

        public static string PlotFile(string method) => $"metrics-{method.Replace("++", "pp")}.png";

        /// <summary>"deletion AUC 0.041 (random 0.312) · insertion AUC 0.830 (random 0.440)", each marked when it beats random.</summary>
        public static string ScoreText(MetricsResult r)
        {
            static string Mark(bool better) => better ? "<span class=\"good\" title=\"better than a random map\">✓</span>" : "<span class=\"bad\" title=\"no better than a random map\">✗</span>";
            return $"deletion AUC {r.Map.DeletionAuc:F3} (random {r.Random.DeletionAuc:F3}) {Mark(r.Map.DeletionAuc < r.Random.DeletionAuc)} · " +
                   $"insertion AUC {r.Map.InsertionAuc:F3} (random {r.Random.InsertionAuc:F3}) {Mark(r.Map.InsertionAuc > r.Random.InsertionAuc)}";
        }
    }

    /// <summary>The summary of the scores shown under each view: what they mean, and all of them in one table.</summary>
    private static string ReportFaithfulness(ReportScores scores)
    {
        string E(object? text) => WebUtility.HtmlEncode(text?.ToString() ?? "");
        if (scores.Results.Count == 0) return "";
        var html = new StringBuilder("<h2>How faithful is each map?</h2>\n<p>Deletion: remove the pixels a map ranks highest first; a faithful map makes the score " +
                                     "fall fast (low AUC). Insertion: reveal them on a blurred copy; the score should rise fast (high AUC). The grey curves and " +
                                     $"the numbers after the slash are a random map's (mean of 3 orders). {scores.Steps} steps. ROAD (Rong et al. 2022): remove 10–90% of " +
                                     "the pixels by noisy linear imputation instead of black, which leaves the model less to read from the holes; mean score, most " +
                                     "relevant first (low is good) and least relevant first (high is good).</p>\n<table><tr><th>method</th><th>deletion AUC</th><th>random</th>" +
                                     "<th>insertion AUC</th><th>random</th><th>ROAD most first</th><th>ROAD least first</th><th>curves</th></tr>\n");
        foreach (var r in scores.Results)
            html.Append($"<tr><td>{E(r.Method)}</td><td>{r.Map.DeletionAuc:F3}</td><td>{r.Random.DeletionAuc:F3}</td><td>{r.Map.InsertionAuc:F3}</td>" +
                        $"<td>{r.Random.InsertionAuc:F3}</td><td>{r.Road?.MostRelevantFirstAuc:F3}</td><td>{r.Road?.LeastRelevantFirstAuc:F3}</td>" +
                        $"<td><img src=\"{E(ReportScores.PlotFile(r.Method))}\" alt=\"{E(r.Method)} curves\" height=\"70\"></td></tr>\n");
        html.Append($"</table><p>Target: {E(scores.Results[0].TargetLabel)}; score: {E(scores.Results[0].Score)}.</p>\n");
        return html.ToString();
    }

    /// <summary>A page per image of a folder and an index of them all: prediction and faithfulness scores at a glance.</summary>
    private static string WriteFolderReport(Engine engine, CnnModel model, string folder, string outDir)
    {
        string[] extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];
        var images = Directory.GetFiles(folder).Where(f => extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order().ToList();
        if (images.Count == 0) throw CommandLine.Usage($"'{folder}' holds no images ({string.Join(", ", extensions)}).");
        Output.Folder(outDir);
        string E(object? text) => WebUtility.HtmlEncode(text?.ToString() ?? "");
        var rows = new StringBuilder();
        var failed = 0;
        for (var i = 0; i < images.Count; i++)
        {
            var name = Path.GetFileName(images[i]);
            Console.Error.WriteLine($"[{new string('#', (i + 1) * 30 / images.Count).PadRight(30, '.')}] {i + 1}/{images.Count} {name}");
            // One page folder per image, named after it; a.png and a.jpg in one folder keep their extensions apart.
            var stem = Path.GetFileNameWithoutExtension(name);
            var shared = images.Count(other => Path.GetFileNameWithoutExtension(other) == stem) > 1;
            var page = Path.Combine(outDir, shared ? $"{stem}-{Path.GetExtension(name).TrimStart('.')}" : stem);
            var existed = Directory.Exists(page);
            try
            {
                var summary = WriteReport(engine, model, images[i], page);
                var link = $"{Uri.EscapeDataString(Path.GetFileName(page))}/index.html";
                rows.Append($"<tr><td><a href=\"{link}\"><img class=\"pixel\" src=\"{Uri.EscapeDataString(Path.GetFileName(page))}/input.png\" height=\"48\"></a></td>" +
                            $"<td><a href=\"{link}\">{E(name)}</a></td><td>{E(summary.Top.Label)}</td><td>{summary.Top.Probability:P1}</td>" +
                            string.Concat(ReportedMethods.Select(m => summary.Faithfulness.FirstOrDefault(f => f.Method == m) is { } f
                                ? $"<td>{f.Map.DeletionAuc:F3} / {f.Random.DeletionAuc:F3}<br>{f.Map.InsertionAuc:F3} / {f.Random.InsertionAuc:F3}</td>"
                                : "<td></td>")) +
                            "</tr>\n");
            }
            catch (CnnInterpretException e)
            {
                // A page half written for an image that failed is no page: remove what this run created; the index says why.
                if (!existed && Directory.Exists(page)) Directory.Delete(page, recursive: true);
                failed++;
                Console.Error.WriteLine($"{name}: skipped: {e.Message}");
                rows.Append($"<tr class=\"failed\"><td></td><td>{E(name)}</td><td colspan=\"{2 + ReportedMethods.Length}\">skipped ({E(e.Kind)}): {E(e.Message)}</td></tr>\n");
            }
        }
        var header = string.Concat(ReportedMethods.Select(m => $"<th>{E(m)}</th>"));
        var count = $"{images.Count} image{(images.Count == 1 ? "" : "s")}{(failed > 0 ? $", {failed} skipped" : "")}";
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>CNN Interpret — {{E(Path.GetFileName(Path.GetFullPath(folder)))}}</title>
            <style>
              body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem; background: #1e1e1e; color: #ddd; }
              a { color: #8cf; } img.pixel { image-rendering: pixelated; } tr.failed td { color: #f88; }
              table { border-collapse: collapse; } td, th { padding: .2rem .8rem; text-align: left; border-bottom: 1px solid #333; }
            </style></head><body>
            <h1>{{E(folder)}} <small>— {{E(model.DisplayName)}} ({{E(model.Id)}})</small></h1>
            <p>{{count}}. Under each method: deletion AUC / the random map's, then insertion AUC / the random map's. A lower deletion and a higher
            insertion than the random map's mean a more faithful explanation.</p>
            <table><tr><th></th><th>image</th><th>prediction</th><th>probability</th>{{header}}</tr>
            {{rows}}</table></body></html>
            """;
        var index = Path.Combine(outDir, "index.html");
        File.WriteAllText(index, html);
        if (failed > 0) Console.Error.WriteLine($"{failed} of {images.Count} images skipped; {Path.GetFullPath(index)} lists why.");
        return index;
    }
}
