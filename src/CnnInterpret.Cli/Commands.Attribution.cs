using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;

namespace CnnInterpret.Cli;

public static partial class Cli
{
    /// <summary>A registry method's options from the command line: <c>--NAME VALUE</c> for each option it declares.</summary>
    private static Dictionary<string, string?> MethodOptions(CommandLine line, ExplainerInfo info, string? except = null) =>
        info.Options.Where(o => o.Name != except).Select(o => (o.Name, Value: line.Option(o.Name)))
            .Where(o => o.Value is not null).ToDictionary(o => o.Name, o => o.Value);

    /// <summary>
    /// explain --method M (any registry method) [--layer L] [--target T] [--OPTION VALUE…]: writes M.npy ([H,W] at the
    /// input's resolution), M.png (over the picture) and M-heatmap.png, M-attributions.npy ([C,H,W], pixel methods) or
    /// M-lowres.npy ([h,w], layer methods), M-segment-values.npy ([S]) and M-segments.npy ([H,W] int32, superpixel methods),
    /// M-weights.npy (--raw, when the method weights channels), and result.json.
    /// </summary>
    private static void WriteAttribution(Engine engine, CommandLine line, string modelId, string image, string outDir, bool raw, IExplainer explainer)
    {
        var info = explainer.Info;
        var layer = line.Option("layer");
        var target = Target.Parse(line.Option("target"));
        var options = MethodOptions(line, info);
        var overlay = new OverlayOptions(line.Option("colormap") ?? "viridis", line.Option("opacity") is { } o ? ParseOpacity(o) : 0.5);
        line.RejectUnknown();
        var result = engine.Attribute(modelId, image, new AttributionRequest(info.Name, layer, target, options), overlay,
            info.Sampling ? StderrProgress(info.Name) : null);
        var attribution = result.Attribution;
        var files = new List<object>();
        void Npy(string file, float[] data, int[] shape, string description)
        {
            NpyWriter.Write(Path.Combine(outDir, file), data, shape);
            files.Add(new { file, kind = "npy", description = $"float32 [{string.Join(", ", shape)}]: {description}" });
        }
        void Png(string file, byte[] png, string description)
        {
            File.WriteAllBytes(Path.Combine(outDir, file), png);
            files.Add(new { file, kind = "png", description });
        }
        var name = info.Name;
        Npy($"{name}.npy", attribution.Map, result.Shape, info.Kind switch
        {
            MapKind.Layer => "the map at the model's input resolution, min-max normalised to [0,1] (bilinear, align_corners=false)",
            MapKind.Superpixel => "each pixel's segment value (signed: positive raises the score)",
            _ => $"the attributions summed over the input's channels{(info.Signed ? " (signed: positive raises the score)" : "")}",
        });
        if (attribution.SegmentValues is { } segmentValues && result.Segments is { } segments)
        {
            Npy($"{name}-segment-values.npy", segmentValues.Select(v => (float)v).ToArray(), [segmentValues.Length], "the value of segment i (entry i)");
            NpyWriter.Write(Path.Combine(outDir, $"{name}-segments.npy"), segments.Labels, [segments.Height, segments.Width]);
            files.Add(new { file = $"{name}-segments.npy", kind = "npy", description = $"int32 [{segments.Height}, {segments.Width}]: the SLIC superpixel of each pixel, ids 0…{segments.Count - 1}" });
        }
        if (attribution.Attributions is { } perChannel)
            Npy($"{name}-attributions.npy", perChannel, [engine.GetModel(modelId).Input.ChannelCount, .. result.Shape], "the attribution of every input value, as Captum's attribute() returns it");
        if (attribution.LowRes is { } lowRes)
            Npy($"{name}-lowres.npy", lowRes, attribution.LowResShape!, "the map at the layer's resolution, after the ReLU, before normalisation");
        if (raw && attribution.ChannelWeights is { } weights)
            Npy($"{name}-weights.npy", weights, [weights.Length], "each channel's weight α_k");
        Png($"{name}.png", result.OverlayPng, info.Signed ? "the map over the picture (red raises the score, blue lowers it; one symmetric scale)" : $"the map over the picture the model saw ({overlay.Colormap})");
        Png($"{name}-heatmap.png", result.HeatmapPng, info.Signed ? "the picture beside the map, with the scale" : $"the map alone ({overlay.Colormap}: dark = 0, bright = the largest value)");
        Output.WriteJsonFile(Path.Combine(outDir, "result.json"), new
        {
            method = name, displayName = info.DisplayName, kind = info.Kind.ToString().ToLowerInvariant(), model = modelId, image, layer = result.Layer,
            target = result.Target.ToString(), targetLabel = result.TargetLabel, score = result.Score,
            scoreKind = result.Target is Target.Class ? "logit (pre-softmax)" : "mean activation of the channel",
            options = result.Options, figures = attribution.Figures, note = attribution.Note, shape = result.Shape, files,
        });
        var figures = string.Concat(attribution.Figures.Select(f => $", {f.Key} {f.Value:G4}"));
        Console.Out.WriteLine($"{info.DisplayName} of {result.TargetLabel} (score {result.Score:F3}){(result.Layer is { } l ? $" at {l.Name} ({l.DisplayName})" : "")}{figures}: " +
                              $"wrote {files.Count} file(s) and result.json to {Path.GetFullPath(outDir)}");
        if (attribution.Note is { } note) Console.Error.WriteLine($"note: {note}");
    }
}
