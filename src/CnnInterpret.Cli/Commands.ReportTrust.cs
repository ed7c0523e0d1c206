using System.Net;
using System.Text;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>The methods whose faithfulness a report scores (GradientSHAP is left to `metrics`: it is the slowest).</summary>
    private static readonly string[] ReportedMethods = ["grad-cam", "lime", "kernel-shap"];

    /// <summary>Deletion/insertion AUCs of each method's map against a random map's, with the curves.</summary>
    private static (IReadOnlyList<MetricsResult> Results, string Html) ReportFaithfulness(Engine engine, CnnModel model, string image, string outDir)
    {
        string E(object? text) => WebUtility.HtmlEncode(text?.ToString() ?? "");
        var results = ReportedMethods.Select(m => engine.Metrics(model.Id, image, new TrustRequest(m))).ToList();
        var html = new StringBuilder("<h2>How faithful is each map?</h2>\n<p>Deletion: remove the pixels a map ranks highest first; a faithful map makes the score " +
                                     "fall fast (low AUC). Insertion: reveal them on a blurred copy; the score should rise fast (high AUC). The grey curves and " +
                                     "the numbers after the slash are a random map's.</p>\n<table><tr><th>method</th><th>deletion AUC</th><th>random</th>" +
                                     "<th>insertion AUC</th><th>random</th><th>curves</th></tr>\n");
        foreach (var r in results)
        {
            var file = $"metrics-{r.Method}.png";
            File.WriteAllBytes(Path.Combine(outDir, file), r.PlotPng);
            html.Append($"<tr><td>{E(r.Method)}</td><td>{r.Map.DeletionAuc:F3}</td><td>{r.Random.DeletionAuc:F3}</td><td>{r.Map.InsertionAuc:F3}</td>" +
                        $"<td>{r.Random.InsertionAuc:F3}</td><td><img src=\"{E(file)}\" alt=\"{E(r.Method)} curves\" height=\"70\"></td></tr>\n");
        }
        html.Append($"</table><p>Target: {E(results[0].TargetLabel)}; score: {E(results[0].Score)}.</p>\n");
        return (results, html.ToString());
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
        for (var i = 0; i < images.Count; i++)
        {
            var name = Path.GetFileName(images[i]);
            Console.Error.WriteLine($"[{new string('#', (i + 1) * 30 / images.Count).PadRight(30, '.')}] {i + 1}/{images.Count} {name}");
            var page = Path.Combine(outDir, Path.GetFileNameWithoutExtension(name));
            try
            {
                var summary = WriteReport(engine, model, images[i], page);
                var link = $"{Uri.EscapeDataString(Path.GetFileName(page))}/index.html";
                rows.Append($"<tr><td><a href=\"{link}\"><img class=\"pixel\" src=\"{Uri.EscapeDataString(Path.GetFileName(page))}/input.png\" height=\"48\"></a></td>" +
                            $"<td><a href=\"{link}\">{E(name)}</a></td><td>{E(summary.Top.Label)}</td><td>{summary.Top.Probability:P1}</td>" +
                            string.Concat(summary.Faithfulness.Select(f => $"<td>{f.Map.DeletionAuc:F3} / {f.Random.DeletionAuc:F3}</td><td>{f.Map.InsertionAuc:F3} / {f.Random.InsertionAuc:F3}</td>")) +
                            "</tr>\n");
            }
            catch (CnnInterpretException e) when (e.Kind == ErrorKind.BadImage)
            {
                rows.Append($"<tr><td></td><td>{E(name)}</td><td colspan=\"{2 + 2 * ReportedMethods.Length}\">skipped: {E(e.Message)}</td></tr>\n");
            }
        }
        var header = string.Concat(ReportedMethods.Select(m => $"<th>{E(m)} deletion (random)</th><th>{E(m)} insertion (random)</th>"));
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>CNN Interpret — {{E(Path.GetFileName(Path.GetFullPath(folder)))}}</title>
            <style>
              body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem; background: #1e1e1e; color: #ddd; }
              a { color: #8cf; } img.pixel { image-rendering: pixelated; }
              table { border-collapse: collapse; } td, th { padding: .2rem .8rem; text-align: left; border-bottom: 1px solid #333; }
            </style></head><body>
            <h1>{{E(folder)}} <small>— {{E(model.DisplayName)}} ({{E(model.Id)}})</small></h1>
            <p>{{images.Count}} images. AUCs: a lower deletion and a higher insertion than the random map's mean a more faithful explanation.</p>
            <table><tr><th></th><th>image</th><th>prediction</th><th>probability</th>{{header}}</tr>
            {{rows}}</table></body></html>
            """;
        var index = Path.Combine(outDir, "index.html");
        File.WriteAllText(index, html);
        return index;
    }
}
