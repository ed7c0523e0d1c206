using PureHDF;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Models;

/// <summary>
/// Keras's VGG16 weights (<c>vgg16_weights_tf_dim_ordering_tf_kernels.h5</c>, what <c>keras.applications.VGG16</c>
/// saves and loads) on torchvision's VGG16. Keras's HDF5 layout: the root's <c>layer_names</c> attribute lists the
/// layers in order; each layer's group has a <c>weight_names</c> attribute naming its datasets (kernel, then bias).
/// Conv kernels are [H,W,in,out] (→ PyTorch's [out,in,H,W]); dense kernels are [in,out] (transposed), and fc1's
/// input is Keras's channels-last flatten of the 7×7×512 block5_pool output (reordered to PyTorch's channels-first).
/// The preprocessing is Keras's for VGG16 ("caffe"): BGR, minus the ImageNet mean in 0–255 units, no scaling; the
/// image is resized so its shorter side is 224 and center-cropped (Keras's own loader squashes it to 224×224).
/// </summary>
public static class KerasVgg16
{
    public static readonly Preprocessing Input = new("bgr", 224, [224, 224],
        [103.939f / 255, 116.779f / 255, 123.68f / 255], [1f / 255, 1f / 255, 1f / 255], [255, 255, 255]);

    private const string Expected = "Use the weights file Keras saves for VGG16 with its classifier (include_top=True, like " +
                                    "vgg16_weights_tf_dim_ordering_tf_kernels.h5), or a PyTorch checkpoint (.pth).";

    /// <param name="adjust">The user's settings on top of Keras's preprocessing.</param>
    public static CnnModel Load(string path, string id, IReadOnlyList<string> imageNetClasses, Func<Preprocessing, Preprocessing> adjust)
    {
        if (!File.Exists(path)) throw new CnnInterpretException(ErrorKind.BadModelFile, $"The weights file '{path}' does not exist.");
        var layers = ReadLayers(path);
        var convs = layers.Where(l => l.Kernel.Rank == 4).ToList();
        var denses = layers.Where(l => l.Kernel.Rank == 2).ToList();
        var widths = TorchvisionArchitectures.VggConfig("vgg16").Where(w => w > 0).ToArray();
        if (convs.Count != widths.Length || denses.Count != 3)
            throw NotVgg16(path, $"it has {convs.Count} convolution and {denses.Count} dense layers with weights; VGG16 has 13 and 3" +
                                 (denses.Count == 0 && convs.Count == 13 ? " (this is the file without the classifier, include_top=False)" : ""));
        var classCount = (int)denses[2].Kernel.Shape[1];

        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>();
        var index = 0; // torchvision's features.N: a conv and its ReLU take two places, a max-pool one
        var conv = 0;
        var inChannels = 3;
        foreach (var width in TorchvisionArchitectures.VggConfig("vgg16"))
        {
            if (width == 0) { index++; continue; }
            var layer = convs[conv++];
            if (!layer.Kernel.Shape.SequenceEqual([3L, 3, inChannels, width]))
                throw NotVgg16(path, $"layer '{layer.Name}' has a kernel of shape [{string.Join(", ", layer.Kernel.Shape)}], where VGG16's is [3, 3, {inChannels}, {width}] (height, width, in, out: Keras's channels-last kernels)");
            state[$"features.{index}.weight"] = layer.Kernel.Tensor.permute(3, 2, 0, 1).contiguous(); // HWIO → OIHW
            state[$"features.{index}.bias"] = layer.Bias(path);
            inChannels = width;
            index += 2;
        }
        long[][] denseShapes = [[7 * 7 * 512, 4096], [4096, 4096], [4096, classCount]];
        for (var d = 0; d < 3; d++)
        {
            var layer = denses[d];
            if (!layer.Kernel.Shape.SequenceEqual(denseShapes[d]))
                throw NotVgg16(path, $"dense layer '{layer.Name}' has a kernel of shape [{string.Join(", ", layer.Kernel.Shape)}], where VGG16's is [{string.Join(", ", denseShapes[d])}]");
            var kernel = layer.Kernel.Tensor;
            // fc1 reads block5_pool flattened as Keras does, (h, w, c); PyTorch flattens (c, h, w).
            state[$"classifier.{d * 3}.weight"] = d == 0
                ? kernel.reshape(7, 7, 512, 4096).permute(3, 2, 0, 1).reshape(4096, 7 * 7 * 512).contiguous()
                : kernel.t().contiguous();
            state[$"classifier.{d * 3}.bias"] = layer.Bias(path);
        }

        var classes = classCount == 1000 ? imageNetClasses : Enumerable.Range(0, classCount).Select(i => $"class {i}").ToList();
        var model = new CnnModel(id, $"VGG16 (Keras, {Path.GetFileName(path)})", adjust(Input), classes, TorchvisionArchitectures.BuildLayers("vgg16", classCount));
        try
        {
            model.LoadWeights(state, ModelRegistry.Sha256File(path), path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private sealed record Weights(long[] Shape, float[] Data)
    {
        public int Rank => Shape.Length;
        public Tensor Tensor => tensor(Data, Shape);
    }

    private sealed record Layer(string Name, Weights Kernel, Weights? BiasArray)
    {
        public Tensor Bias(string path) => BiasArray is { Rank: 1 } b && b.Shape[0] == Kernel.Shape[^1] ? b.Tensor
            : throw NotVgg16(path, $"layer '{Name}' has no bias of {Kernel.Shape[^1]} values");
    }

    /// <summary>The layers that have weights, in the file's order (the root's layer_names).</summary>
    private static List<Layer> ReadLayers(string path)
    {
        try
        {
            using var file = H5File.OpenRead(path);
            if (!file.AttributeExists("layer_names"))
                throw NotVgg16(path, "it has no 'layer_names' attribute, so it is not a Keras weights file" +
                                     (file.LinkExists("model_weights") ? " (it is a whole saved Keras model; save its weights alone with model.save_weights)" : ""));
            var result = new List<Layer>();
            foreach (var name in file.Attribute("layer_names").Read<string[]>())
            {
                var group = file.Group(name);
                // A layer without weights has an empty weight_names, which h5py stores as an empty float array.
                var weightNames = group.AttributeExists("weight_names") && group.Attribute("weight_names") is var a && a.Space.Dimensions.Aggregate(1UL, (p, d) => p * d) > 0
                    ? a.Read<string[]>() : [];
                if (weightNames.Length == 0) continue; // input, pooling, flatten
                var arrays = weightNames.Select(w =>
                {
                    var dataset = group.Dataset(w);
                    return new Weights(dataset.Space.Dimensions.Select(d => (long)d).ToArray(), dataset.Read<float[]>());
                }).ToList();
                result.Add(new Layer(name, arrays[0], arrays.Count > 1 ? arrays[1] : null));
            }
            return result;
        }
        catch (CnnInterpretException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"Cannot read '{path}' as Keras HDF5 weights ({e.Message}). {Expected}", new { file = path }, e);
        }
    }

    private static CnnInterpretException NotVgg16(string path, string what) =>
        new(ErrorKind.BadModelFile, $"'{path}' is not Keras's VGG16 weights: {what}. {Expected}", new { file = path });
}
