using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>One layer's map in a sweep.</summary>
public sealed record LayerMap(LayerInfo Layer, float[] Heatmap, float[] LowRes, int[] LowResShape);

/// <summary>
/// Grad-CAM at every conv layer in one go — one forward capturing them all, one backward giving every
/// layer's gradients at once — so a user can see which depth explains the prediction best (early layers:
/// edges, sharp but not class-specific; late layers: coarse but discriminative).
/// </summary>
public static class LayerSweep
{
    /// <summary>
    /// Each conv layer's activated output (its ReLU, after any batch norm, as a Keras conv layer includes its
    /// activation) and each residual block's output: the maps Grad-CAM is meant for. A raw conv output's weighted
    /// sum is often negative everywhere, which the CAM's ReLU turns into an empty map.
    /// </summary>
    public static IReadOnlyList<LayerInfo> ConvLayers(CnnModel model)
    {
        var layers = model.Layers;
        var result = new List<LayerInfo>();
        for (var i = 0; i < layers.Count; i++)
        {
            if (!layers[i].IsSpatial) continue;
            if (layers[i].Kind is "BasicBlock" or "Bottleneck") { result.Add(layers[i]); continue; }
            if (layers[i].Kind is not ("Conv2d" or "Conv")) continue;
            var j = i;
            while (j + 1 < layers.Count && layers[j + 1].IsSpatial && layers[j + 1].Kind is "BatchNorm2d" or "BatchNormalization" or "ReLU" or "Relu" or "LeakyRelu")
                j++;
            result.Add(layers[j]);
        }
        return result;
    }

    /// <summary>Every layer's map from one <see cref="CamPass"/> (one forward, one backward).</summary>
    public static (Target Target, float Score, IReadOnlyList<LayerMap> Maps) Run(CnnModel model, float[] input, Target? target, BaseCam cam,
        IReadOnlyList<LayerInfo>? layers = null, CancellationToken cancellation = default)
    {
        layers ??= ConvLayers(model);
        if (layers.Count == 0)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Model '{model.Id}' has no conv layers to sweep.");
        cancellation.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        var shape = model.Input.InputShape;
        var pass = CamPass.Run(model, layers, target, () => NativeTensor.From<float>(input, 1, shape[0], shape[1], shape[2]));
        var maps = new List<LayerMap>();
        for (var i = 0; i < layers.Count; i++)
        {
            var (_, lowRes, heatmap) = cam.Compute(pass.Activations[i], pass.Gradients[i], shape[1], shape[2]);
            maps.Add(new LayerMap(layers[i], heatmap, lowRes, [layers[i].OutputShape[1], layers[i].OutputShape[2]]));
        }
        return (pass.Target, pass.Score, maps);
    }
}
