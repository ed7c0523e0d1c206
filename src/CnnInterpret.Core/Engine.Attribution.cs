using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace CnnInterpret.Core;

/// <summary>A registry method's answer for one image, with what it explained and the pictures of it.</summary>
/// <param name="Layer">The layer of a layer method; null for pixel methods.</param>
/// <param name="Score">The target's score on the image: the class logit, or the channel's mean activation.</param>
/// <param name="Options">The options in use, defaults included.</param>
/// <param name="OverlayPng">The map over the picture the model saw (signed maps: red raises the score, blue lowers it).</param>
/// <param name="HeatmapPng">The map alone.</param>
public sealed record AttributionResult(ExplainerInfo Method, LayerInfo? Layer, Target Target, string TargetLabel, float Score,
    Attribution Attribution, int[] Shape, IReadOnlyDictionary<string, object> Options, byte[] OverlayPng, byte[] HeatmapPng)
{
    /// <summary>Superpixel methods: the segments the values are of.</summary>
    public Segmentation? Segments { get; init; }
}

/// <summary>What to explain with a registry method: the method's name, its layer and target, and its options as text.</summary>
public sealed record AttributionRequest(string Method, string? Layer = null, Target? Target = null,
    IReadOnlyDictionary<string, string?>? Options = null);

public sealed partial class Engine
{
    /// <summary>The attribution methods this engine offers.</summary>
    public ExplainerRegistry Methods { get; init; } = ExplainerRegistry.Default;

    /// <summary>
    /// Any registry method on an image: checks the method, its options, its layer and the target before any work,
    /// runs it on what the model sees, and renders the map (<paramref name="render"/> false: numbers only).
    /// </summary>
    public AttributionResult Attribute(string? modelId, string imagePath, AttributionRequest request, OverlayOptions? overlay = null,
        IProgress<ExplainProgress>? progress = null, bool render = true, CancellationToken cancellation = default)
    {
        var model = GetModel(modelId);
        var explainer = Methods.Get(request.Method);
        var info = explainer.Info;
        var options = ExplainerOptions.Parse(info, request.Options ?? new Dictionary<string, string?>());
        overlay = (overlay ?? new OverlayOptions()).Validate();
        var layer = AttributionLayer(model, info, request.Layer);
        var superpixels = info.Kind == MapKind.Superpixel ? Superpixels.SegmentsOf(options) : null;
        if (superpixels is not null) Slic.Validate(superpixels, model.Input.Height, model.Input.Width); // a bad count fails before any work
        var activations = Activations(model, imagePath, cancellation);
        var target = Target.Resolve(request.Target, model, activations.Logits);
        if (layer is not null && target is Target.Channel ch && model.Layers.ToList().FindIndex(l => l.Name == ch.Layer) < model.Layers.ToList().FindIndex(l => l.Name == layer.Name))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"The target channel's layer '{ch.Layer}' comes before '{layer.Name}', so its score does not depend on that layer. Pick a target at '{layer.Name}' or a later layer.");

        using var input = PrepareInput(model, imagePath);
        var segments = superpixels is null ? null : Slic.Segment(input.Display, superpixels);
        Attribution attribution;
        using (NewDisposeScope())
            attribution = explainer.Explain(new ExplainContext(model, input.Data, target, layer, options, progress, cancellation: cancellation)
            {
                Segments = segments,
                ModelsDirectory = Models.ModelsDirectory,
                // The superpixel methods' batches come from the memory budget, as in their views.
                BatchSize = segments is null ? ExplainContext.DefaultBatchSize(input.Data.Length) : PerturbationScorer.BatchSizeFor(model, SamplingMemoryBudget),
            });
        if (attribution.Map.Any(v => !float.IsFinite(v)))
            throw new CnnInterpretException(ErrorKind.Internal, $"{info.DisplayName} produced a non-finite value for {target.Describe(model)}; please report it with the model and image.");

        var (overlayPng, heatmapPng) = render ? RenderAttribution(input.Display, info, attribution.Map, overlay, segments?.Labels) : ([], []);
        return new AttributionResult(info, layer, target, target.Describe(model), TargetScore(activations, target),
            attribution, [model.Input.Height, model.Input.Width], options.Values, overlayPng, heatmapPng) { Segments = segments };
    }

    /// <summary>
    /// The layer a method runs at: for a layer method the one asked for (a spatial layer, or a block: its last spatial
    /// layer) or by default the last conv layer (also for a pixel method that <see cref="ExplainerInfo.UsesLayer"/>);
    /// other pixel methods take none.
    /// </summary>
    private static LayerInfo? AttributionLayer(CnnModel model, ExplainerInfo info, string? layer)
    {
        if (info.NeedsLayer) return BaseCam.SpatialLayer(model, string.IsNullOrWhiteSpace(layer) ? DefaultCamLayer(model) : layer);
        if (!string.IsNullOrWhiteSpace(layer))
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"{info.DisplayName} attributes the input pixels; it takes no layer. Leave the layer out, or use a layer method: " +
                string.Join(", ", ExplainerRegistry.Default.All.Where(e => e.Info.NeedsLayer).Select(e => e.Info.Name)) + ".");
        return null;
    }

    /// <summary>The target's score from the cached forward: the class logit, or the channel's mean activation.</summary>
    private static float TargetScore(ImageActivations activations, Target target) => target switch
    {
        Target.Class c => activations.Logits[c.Index],
        Target.Channel ch => ChannelMean(activations.Layers[ch.Layer], ch.Index),
        _ => float.NaN,
    };

    private static float ChannelMean(Activation activation, int channel)
    {
        var size = activation.Data.Length / activation.Shape[0];
        double sum = 0;
        for (var i = 0; i < size; i++) sum += activation.Data[channel * size + i];
        return (float)(sum / size);
    }

    /// <summary>
    /// Signed maps over a muted picture with one symmetric scale (red raises the score, blue lowers it); unsigned maps
    /// scaled to [0,1] by their largest value and colour-mapped like Grad-CAM.
    /// </summary>
    /// <param name="labels">Superpixel methods: each pixel's segment, whose boundaries are drawn (as the LIME and SHAP views draw them).</param>
    private static (byte[] Overlay, byte[] Heatmap) RenderAttribution(Image<Rgb24> display, ExplainerInfo info, float[] map, OverlayOptions overlay, int[]? labels)
    {
        int height = display.Height, width = display.Width;
        if (info.Signed)
        {
            using var over = AttributionMap.Render(display, [map], height, width, labels: labels, withPicture: false);
            using var alone = AttributionMap.Render(display, [map], height, width, labels: labels, withPicture: true);
            return (ChannelGrid.ToPng(over), ChannelGrid.ToPng(alone));
        }
        var max = map.Max();
        var scaled = max > 0 ? map.Select(v => Math.Max(0, v) / max).ToArray() : new float[map.Length];
        return (Overlay.BlendPng(display, scaled, height, width, overlay), Overlay.HeatmapPng(scaled, height, width, overlay));
    }
}
