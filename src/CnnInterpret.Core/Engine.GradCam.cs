using CnnInterpret.Core.Caching;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace CnnInterpret.Core;

public sealed partial class Engine
{
    /// <summary>
    /// Grad-CAM or Grad-CAM++ (<paramref name="method"/>) of <paramref name="target"/> (none: the top class) at a
    /// spatial <paramref name="layer"/>, in the one forward and backward every CAM shares (<see cref="CamPass"/>). When
    /// the activations cache holds this image, the pass starts at the layer from its cached output (no decode, and
    /// nothing before the layer is run again); otherwise the image is decoded and run to the layer without gradients,
    /// and from there on with them. A new image does not fill the activations cache: copying every layer's output (and
    /// encoding the picture) cost more than the CAM itself on small models (1.9× decode + forward + backward on
    /// fashion-vgg); the views that need every layer fill it themselves.
    /// </summary>
    public GradCamResult GradCam(string? modelId, string imagePath, string layer, Target? target = null,
        string? method = null, OverlayOptions? overlay = null, CancellationToken cancellation = default)
        => GradCam(GetModel(modelId), imagePath, layer, target, method, overlay, cancellation: cancellation);

    /// <inheritdoc cref="GradCam(string?, string, string, Target?, string?, OverlayOptions?, CancellationToken)"/>
    /// <param name="render">False leaves the PNGs empty (the numbers alone, e.g. for timing the method itself).</param>
    public GradCamResult GradCam(CnnModel model, string imagePath, string layer, Target? target = null,
        string? method = null, OverlayOptions? overlay = null, bool render = true, CancellationToken cancellation = default)
    {
        var cam = BaseCam.Create(method);
        overlay = (overlay ?? new OverlayOptions()).Validate();
        var info = BaseCam.SpatialLayer(model, layer);
        if (target is Target.Channel channel) model.GetLayer(channel.Layer); // an unknown layer is refused before any work
        cancellation.ThrowIfCancellationRequested();

        using var scope = NewDisposeScope();
        var bytes = ImageLoader.ReadFile(imagePath, ImageLimits);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var cached = Cache.TryGet(ActivationCache.Key(model.Id, model.WeightsHash, hash));
        ModelInput? input = null;
        Tensor? batch = null;
        // The picture is decoded only when the pass needs the input: a new image, or a connection around the layer.
        Tensor Input()
        {
            if (batch is not null) return batch;
            using (var decoded = ImageLoader.Decode(bytes, imagePath, ImageLimits, model.Input.Background, hash))
                input = ImagePreprocessor.Prepare(decoded.Pixels, model.Input);
            cancellation.ThrowIfCancellationRequested();
            return batch = input.ToBatch();
        }
        try
        {
            Tensor? layerOutput = null;
            if (cached is not null)
            {
                var a = cached.Layers[info.Name];
                layerOutput = NativeTensor.From<float>(a.Data, [1, .. a.Shape.Select(d => (long)d)]);
            }
            else Interlocked.Increment(ref _forwardPasses);
            var pass = CamPass.Run(model, [info], target, Input, layerOutput, cached?.Logits);
            cancellation.ThrowIfCancellationRequested();
            var (weights, lowRes, heatmap) = cam.Compute(pass.Activations[0], pass.Gradients[0], model.Input.Height, model.Input.Width);

            var (overlayPng, heatmapPng) = !render ? ([], [])
                : input is not null ? Render(input.Display, heatmap, model.Input.Height, model.Input.Width, overlay)
                : Render(cached!.DisplayPng, heatmap, model.Input.Height, model.Input.Width, overlay);
            return new GradCamResult(cam.Method, info, pass.Target, pass.Target.Describe(model), pass.Score,
                heatmap, [model.Input.Height, model.Input.Width], lowRes, [info.OutputShape[1], info.OutputShape[2]], weights,
                overlayPng, heatmapPng);
        }
        finally { input?.Dispose(); }
    }

    private static (byte[] Overlay, byte[] Heatmap) Render(byte[] displayPng, float[] heatmap, int height, int width, OverlayOptions? options)
    {
        using var picture = Image.Load<Rgb24>(displayPng);
        return Render(picture, heatmap, height, width, options);
    }

    private static (byte[] Overlay, byte[] Heatmap) Render(Image<Rgb24> picture, float[] heatmap, int height, int width, OverlayOptions? options) =>
        (Overlay.BlendPng(picture, heatmap, height, width, options), Overlay.HeatmapPng(heatmap, height, width, options));
}
