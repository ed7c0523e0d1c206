using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>
    /// The engine and the id of the model the command names: --model (a built-in id or a model file), with
    /// --weights FILE (other weights for a built-in architecture), --arch NAME and --cache-dir DIR.
    /// </summary>
    private static Engine OpenEngine(CommandLine line, out string modelId)
    {
        var model = line.Option("model") ?? ModelRegistry.DefaultModelId;
        var weights = line.Option("weights");
        var arch = line.Option("arch");
        var settings = ModelSettingsFrom(line);
        var engine = new Engine(new ModelRegistry(cacheDirectory: line.Option("cache-dir")), imageLimits: ImageLimits.Configured(line.Long("max-pixels")), ownsModels: true);
        try
        {
            modelId = engine.Models.Register(model, weights, arch, settings).Id;
            return engine;
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The model's preprocessing and labels from the flags (they override the sidecar FILE.json, which overrides the
    /// model's defaults): --preset, --mean R,G,B, --std R,G,B, --resize N, --crop N|HxW, --channels rgb|bgr|gray,
    /// --labels FILE. --preset and --channels share their names with filter-patterns' and feature-maps' options,
    /// whose values (readable|classic, a channel range) never look like these, so each takes only its own.
    /// </summary>
    private static ModelSettings ModelSettingsFrom(CommandLine line)
    {
        const string flags = "the command line";
        var preset = line.Peek("preset") is { } p && ModelSettings.PresetNames.Contains(p.ToLowerInvariant()) ? line.Option("preset") : null;
        var channels = line.Peek("channels") is { } c && ModelSettings.ChannelNames.Contains(c.ToLowerInvariant()) ? line.Option("channels") : null;
        return new ModelSettings(
            Preset: preset is null ? null : ModelSettings.ParsePreset(preset, flags),
            Mean: line.Option("mean") is { } mean ? ModelSettings.ParseNumbers(mean, "--mean", flags) : null,
            Std: line.Option("std") is { } std ? ModelSettings.ParseNumbers(std, "--std", flags) : null,
            Resize: line.Option("resize") is { } resize ? ModelSettings.ParseSize(resize, "--resize", flags) : null,
            Crop: line.Option("crop") is { } crop ? ModelSettings.ParseCrop(crop, flags) : null,
            Channels: channels is null ? null : ModelSettings.ParseChannels(channels, flags),
            LabelsFile: line.Option("labels") is { } labels ? Path.GetFullPath(labels) : null);
    }

    private static int Predict(CommandLine line, List<string> images)
    {
        var top = line.Int("top") ?? 5;
        var json = line.Flag("json");
        if (images.Count == 0) throw CommandLine.Usage("predict needs at least one IMAGE.");
        using var engine = OpenEngine(line, out var modelId);
        line.RejectUnknown();
        var model = engine.GetModel(modelId);
        var results = new List<object>();
        var failures = 0;
        foreach (var image in images)
        {
            try
            {
                var prediction = engine.Predict(model.Id, image, top);
                var fit = ImageFits.Assess(model, engine.Activations(model, image).DisplayPng);
                if (!fit.Suitable) Console.Error.WriteLine($"note: {Path.GetFileName(image)}: {fit.Reason}");
                if (json) results.Add(new { image, model = model.Id, top = prediction.Top.Select(t => new { t.Index, t.Label, t.Probability }), logits = prediction.Logits, fit,
                    preprocessing = new { model.Origin.Preset, mean = model.Input.MeanRgb, std = model.Input.StdRgb, model.Input.Resize, model.Input.Crop, model.Input.Channels, model.Origin.Defaults, model.Origin.Sources } });
                else Console.Out.WriteLine($"{image}: " + string.Join(", ", prediction.Top.Select(t =>
                    model.Classes.Count > 0 ? $"{t.Label} {t.Probability:P1}" : $"{t.Label} (mean {t.Logit:F2})")));
            }
            catch (CnnInterpretException e) when (e.Kind == ErrorKind.BadImage)
            {
                // One bad file must not hide the others' results.
                failures++;
                if (json) results.Add(new { image, model = model.Id, error = e.Message });
                Console.Error.WriteLine($"error: {e.Message}");
            }
        }
        if (json) Output.WriteJson(results);
        return failures == 0 ? 0 : 1;
    }

    private static int Explain(CommandLine line, List<string> images)
    {
        var method = line.Require("method", "the explanation: feature-maps");
        var outDir = line.Require("out", "the folder to write results into");
        var raw = line.Flag("raw");
        if (images.Count != 1 && method != "filter-patterns") throw CommandLine.Usage("explain takes exactly one IMAGE.");
        using var engine = OpenEngine(line, out var modelId);
        Output.Folder(outDir);
        switch (method)
        {
            case "layer-sweep": WriteLayerSweep(engine, line, modelId, images[0], outDir); break;
            case "feature-maps":
                WriteFeatureMaps(engine, line, modelId, images[0], outDir, raw);
                break;
            case "grad-cam" or "grad-cam++": WriteGradCam(engine, line, modelId, images[0], outDir, raw, method); break;
            case "filter-patterns": WriteFilterPatterns(engine, line, modelId, images, outDir); break;
            case "lime": WriteLime(engine, line, modelId, images[0], outDir, raw); break;
            case "kernel-shap" or "gradient-shap": WriteShap(engine, line, modelId, images[0], outDir, method); break;
            default:
                WriteAttribution(engine, line, modelId, images[0], outDir, raw, ExplainerRegistry.Default.Find(method) ?? throw CommandLine.Usage(
                    $"Unknown method '{method}'. Available: {string.Join(", ", ExplainMethods)}."));
                break;
        }
        return 0;
    }

    /// <summary>Every name <c>explain --method</c> takes: the views with their own files, then the registry's methods.</summary>
    private static IEnumerable<string> ExplainMethods => ViewMethods.Concat(ExplainerRegistry.Default.Names).Distinct();

    private static readonly string[] ViewMethods = ["feature-maps", "filter-patterns", "layer-sweep", "lime", "kernel-shap", "gradient-shap"];

    private static void WriteFeatureMaps(Engine engine, CommandLine line, string? modelId, string image, string outDir, bool raw)
    {
        var layerName = line.Require("layer", "a layer name such as features.0 or block1_conv1; see 'layers'");
        var channels = line.Option("channels") is { } text ? FeatureMaps.ParseChannels(text) : null;
        var grid = new GridOptions(Scaling: line.Flag("shared-scale") ? ChannelScaling.Shared : ChannelScaling.PerChannel, Colormap: line.Option("colormap") ?? "viridis");
        line.RejectUnknown();
        var model = engine.GetModel(modelId);
        var layer = model.GetLayer(layerName);
        if (channels is null && layer.IsSpatial) channels = Enumerable.Range(0, layer.OutputShape[0]).ToArray(); // the CLI writes every channel
        var pages = channels?.Chunk(FeatureMaps.PageSize).ToList() ?? [null!];
        var files = new List<object>();
        var allValues = new List<float>();
        var stats = new List<ChannelStats>();
        FeatureMapsResult? last = null;
        for (var p = 0; p < pages.Count; p++)
        {
            last = engine.FeatureMaps(model.Id, image, layer.Name, pages[p], grid);
            var png = pages.Count == 1 ? "feature-maps.png" : $"feature-maps-{p}.png";
            File.WriteAllBytes(Path.Combine(outDir, png), last.Png);
            files.Add(new { file = png, kind = "png", description = $"channels {last.Channels[0]}–{last.Channels[^1]} of {layer.Name} ({layer.DisplayName}), {grid.Scaling} scaling, {grid.Colormap}" });
            allValues.AddRange(last.Values);
            stats.AddRange(last.Stats);
        }
        var shown = channels!;
        if (raw)
        {
            NpyWriter.Write(Path.Combine(outDir, "feature-maps.npy"), allValues.ToArray(), [shown.Length, last!.Shape[1], last.Shape[2]]);
            files.Add(new { file = "feature-maps.npy", kind = "npy", description = $"float32 [{shown.Length}, {last.Shape[1]}, {last.Shape[2]}]: the activations of the channels listed in 'channels'" });
        }
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method = "feature-maps", model = model.Id, image, layer, shape = last!.Shape, channels = shown, stats, files,
        });
        Console.Out.WriteLine($"Wrote {files.Count} file(s) and result.json to {Path.GetFullPath(outDir)}");
    }

    private static int Evaluate(CommandLine line)
    {
        var modelId = line.Option("model") ?? ModelRegistry.DefaultModelId;
        var data = Core.Training.FashionMnist.ResolveDirectory(line.Option("data"));
        var limit = line.Int("limit");
        var json = line.Flag("json");
        line.RejectUnknown();
        using var registry = new ModelRegistry();
        var model = registry.Get(modelId);
        if (model.Input.InputShape is not [1, 28, 28] || model.Classes.Count != 10)
            throw CommandLine.Usage($"evaluate measures accuracy on Fashion-MNIST; model '{model.Id}' does not take 28×28 gray images with 10 classes.");
        var test = Core.Training.FashionMnist.Load(data, train: false);
        var count = Math.Min(limit ?? test.Count, test.Count);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var accuracy = Core.Training.DefaultModelTrainer.Evaluate(model, test, count);
        if (json) Output.WriteJson(new { model = model.Id, dataset = "Fashion-MNIST test", images = count, accuracy, seconds = clock.Elapsed.TotalSeconds });
        else Console.Out.WriteLine($"{accuracy:F4}  ({model.Id}, {count} Fashion-MNIST test images, {clock.Elapsed.TotalSeconds:F1} s)");
        return 0;
    }
}
