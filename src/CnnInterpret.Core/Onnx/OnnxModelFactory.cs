using CnnInterpret.Core.Models;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// Turns ONNX files into <see cref="CnnModel"/>s: built-in entries of models.json with an "onnx" source
/// (files beside the manifest, beside the binaries, or in a NuGet package restored with the build), and
/// users' own .onnx files. The model's weights hash is the sha256 of its .onnx file(s).
/// </summary>
public static class OnnxModelFactory
{
    public static CnnModel Create(ModelEntry entry, string modelsDirectory)
    {
        var source = entry.Onnx ?? throw new ArgumentException($"model '{entry.Id}' has no ONNX source", nameof(entry));
        var network = OnnxFiles.Resolve(source.Network, source.Package, modelsDirectory, entry.Id);
        var preprocess = source.Preprocess is null ? null : OnnxFiles.Resolve(source.Preprocess, source.Package, modelsDirectory, entry.Id);
        return Build(entry.Id, entry.DisplayName, entry.Input, entry.Classes, network, preprocess);
    }

    /// <summary>
    /// Imports a user's .onnx file. Without <paramref name="input"/>, the preprocessing is read from the
    /// graph's input ([N,1|3,H,W]: gray or RGB at H×W, scaled to [0,1], no mean/std): give one when the model
    /// was trained with other normalisation. Without <paramref name="classes"/> the model has none (targets
    /// are then channels).
    /// </summary>
    /// <param name="adjust">Changes the preprocessing read from the graph (the user's settings).</param>
    /// <param name="sizeHint">The input's [C,H,W] when the graph leaves its height and width open.</param>
    public static CnnModel Import(string onnxPath, Preprocessing? input = null, IReadOnlyList<string>? classes = null,
        string? preprocessPath = null, string? id = null, Func<Preprocessing, Preprocessing>? adjust = null, int[]? sizeHint = null)
    {
        var name = Path.GetFileNameWithoutExtension(onnxPath);
        return Build(id ?? name, name, input, classes ?? [], Path.GetFullPath(onnxPath), preprocessPath is null ? null : Path.GetFullPath(preprocessPath), adjust, sizeHint);
    }

    private static CnnModel Build(string id, string displayName, Preprocessing? input, IReadOnlyList<string> classes, string network, string? preprocess,
        Func<Preprocessing, Preprocessing>? adjust = null, int[]? sizeHint = null)
    {
        var shape = input?.InputShape;
        var graph = OnnxGraph.Load(network, preprocess, shape);
        if (graph.InputShape is null && shape is null && sizeHint is not null)
        {
            graph.Dispose(); // its size is open: read it again at the size the user gave
            graph = OnnxGraph.Load(network, preprocess, sizeHint);
        }
        try
        {
            var spec = input ?? DefaultPreprocessing(graph, network);
            if (adjust is not null) spec = adjust(spec);
            if (graph.InputShape is null || !graph.InputShape.SequenceEqual(spec.InputShape))
                throw new CnnInterpretException(ErrorKind.BadModelFile,
                    $"The ONNX model '{network}' takes input [{string.Join(", ", ((graph.InputInfo is [var first, ..] ? first.Shape : null) ?? []))}], which does not fit images of shape [{string.Join(", ", spec.InputShape)}] (channels, height, width).");
            var model = new CnnModel(id, displayName, spec, classes, graph);
            var hash = ModelRegistry.Sha256File(network) + (preprocess is null ? "" : "+" + ModelRegistry.Sha256File(preprocess));
            // The weights are the graph's own; loading them onto themselves records where they came from.
            using var scope = NewDisposeScope();
            model.LoadWeights(model.StateDict(), hash, network);
            return model;
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    private static Preprocessing DefaultPreprocessing(OnnxGraph graph, string path)
    {
        var shape = graph.InputShape;
        if (graph.InputInfo.Count != 1 || shape is not [var channels, var height, var width] || channels is not (1 or 3))
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"The ONNX model '{path}' takes input {string.Join(", ", graph.InputInfo.Select(i => $"'{i.Name}' [{string.Join(", ", i.Shape ?? [])}]"))}; " +
                "an image model takes one input [N, 1 or 3, H, W]. If its height and width are left open, give the input size (--crop HxW, or \"crop\" in the sidecar FILE.onnx.json).");
        return new Preprocessing(channels == 1 ? "gray" : "rgb", Math.Min(height, width), [height, width],
            Enumerable.Repeat(0f, channels).ToArray(), Enumerable.Repeat(1f, channels).ToArray());
    }
}
