using System.Net;
using System.Text;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>report --out DIR IMAGE|FOLDER: one image's page, or a folder's index with a page per image.</summary>
    private static int Report(CommandLine line, List<string> images)
    {
        var outDir = line.Require("out", "the folder to write the report into");
        if (images.Count != 1) throw CommandLine.Usage("report takes exactly one IMAGE or FOLDER.");
        using var engine = OpenEngine(line, out var modelId);
        line.RejectUnknown();
        var model = engine.GetModel(modelId);
        var index = Directory.Exists(images[0]) ? WriteFolderReport(engine, model, images[0], outDir) : WriteReport(engine, model, images[0], outDir).Index;
        Console.Out.WriteLine(Path.GetFullPath(index));
        return 0;
    }

    /// <summary>What a folder's index shows of one image.</summary>
    private sealed record ReportSummary(string Index, ClassScore Top, IReadOnlyList<MetricsResult> Faithfulness);

    /// <summary>
    /// An HTML page for one image: the picture the model saw, its prediction, the feature maps of every
    /// conv and pooling layer (one forward pass; every layer comes from the activations cache), then each
    /// view's section and how faithful each map is.
    /// </summary>
    private static ReportSummary WriteReport(Engine engine, CnnInterpret.Core.Models.CnnModel model, string image, string outDir)
    {
        var passes = engine.ForwardPasses;
        var prediction = engine.Predict(model.Id, image, model.Classes.Count == 0 ? 5 : Math.Min(5, model.Classes.Count)); // a bad image fails here, before its folder exists
        Output.Folder(outDir);
        var activations = engine.Activations(model, image);
        File.WriteAllBytes(Path.Combine(outDir, "input.png"), activations.DisplayPng);

        var html = new StringBuilder();
        string E(object? text) => WebUtility.HtmlEncode(text?.ToString() ?? "");
        html.Append($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <title>CNN Interpret — {{E(Path.GetFileName(image))}}</title>
            <style>
              body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem; background: #1e1e1e; color: #ddd; }
              h1, h2 { font-weight: 600; } h2 { margin-top: 2rem; border-bottom: 1px solid #444; }
              img.pixel { image-rendering: pixelated; } .input img { width: 168px; }
              table { border-collapse: collapse; } td, th { padding: .2rem .8rem; text-align: left; }
              .bar { background: #3b8; height: .8rem; display: inline-block; vertical-align: middle; }
              figure { margin: 1rem 0; } figcaption { color: #aaa; }
              .score { color: #ccc; font-size: 13px; } .score img { vertical-align: middle; } .good { color: #3b8; } .bad { color: #e66; }
            </style></head><body>
            <h1>{{E(Path.GetFileName(image))}} <small>— {{E(model.DisplayName)}} ({{E(model.Id)}})</small></h1>
            <div class="input"><img class="pixel" src="input.png" alt="the model's input"></div>
            <h2>Prediction</h2>
            <table><tr><th>class</th><th>probability</th><th></th><th>logit</th></tr>
            """);
        foreach (var c in prediction.Top)
            html.Append($"<tr><td>{E(c.Label)}</td><td>{c.Probability:P1}</td><td><span class=\"bar\" style=\"width:{c.Probability * 200:F0}px\"></span></td><td>{c.Logit:F2}</td></tr>\n");
        html.Append("</table>\n<h2>Feature maps</h2>\n<p>Each cell is one channel, scaled to its own range (viridis: dark = low, yellow = high).</p>\n");

        var spatial = model.Layers.Where(l => l.IsSpatial && l.Kind is "Conv2d" or "MaxPool2d").ToList();
        foreach (var layer in spatial)
        {
            var maps = engine.FeatureMaps(model.Id, image, layer.Name);
            var file = $"feature-maps-{layer.Name}.png";
            File.WriteAllBytes(Path.Combine(outDir, file), maps.Png);
            var strongest = maps.Stats.OrderByDescending(s => s.Mean).Take(3).Select(s => s.Channel);
            html.Append($"<figure><img class=\"pixel\" src=\"{E(file)}\" alt=\"{E(layer.DisplayName)}\"><figcaption>{E(layer.DisplayName)} " +
                        $"(<code>{E(layer.Name)}</code>, {E(layer.Kind)}, [{string.Join("×", layer.OutputShape)}]" +
                        $"{(maps.Channels.Length < layer.OutputShape[0] ? $", first {maps.Channels.Length} channels" : "")}); " +
                        $"most active channels: {string.Join(", ", strongest)}</figcaption></figure>\n");
        }
        passes = engine.ForwardPasses - passes; // this image's: the engine's counter runs over a whole folder
        Console.Error.WriteLine($"{Path.GetFileName(image)}: {prediction.Top[0].Label} ({prediction.Top[0].Probability:P1}); {spatial.Count} layers of feature maps from {passes} forward pass{(passes == 1 ? "" : "es")}");
        var scores = new ReportScores(engine, model, image, outDir); // each view's faithfulness, shown under it (issue 8)
        html.Append(ReportGradientViews(engine, model, image, outDir, scores)); // Grad-CAM and filter patterns (issue 4)
        html.Append(ReportSamplingViews(engine, model, image, outDir, scores)); // LIME and SHAP (issue 5)
        html.Append(ReportFaithfulness(scores)); // trust (issue 8)
        html.Append($"<h2>Model</h2><p>{E(model.Layers.Count)} layers, {model.ParameterCount:N0} parameters, input [{string.Join(", ", model.Input.InputShape)}], " +
                    $"weights sha256 <code>{E(model.WeightsHash)}</code>.</p>\n</body></html>\n");
        var index = Path.Combine(outDir, "index.html");
        File.WriteAllText(index, html.ToString());
        return new ReportSummary(index, prediction.Top[0], scores.Results);
    }
}
