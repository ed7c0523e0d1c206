using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Core.Models;

/// <summary>A layer of a network as its graph knows it; the model adds the output shape.</summary>
public sealed record LayerNode(string Name, string DisplayName, string Kind, string Group, long ParameterCount);

/// <summary>
/// A network whose named layers can be captured, cut short and overridden: the one operation every
/// explainer needs. Implemented by a plain layer sequence (VGG, ResNet at block level) and by imported
/// ONNX graphs. Tensors created belong to the caller's dispose scope.
/// </summary>
public interface ILayerGraph
{
    /// <summary>The TorchSharp module that owns the parameters (its state_dict names are the checkpoint's).</summary>
    Module<Tensor, Tensor> Module { get; }

    /// <summary>Every layer, in an order in which running them is valid (topological).</summary>
    IReadOnlyList<LayerNode> Nodes { get; }

    /// <summary>
    /// Runs <paramref name="input"/> through the network, adding the outputs of the <paramref name="capture"/>
    /// layers to <paramref name="captured"/>. With <paramref name="stopAfter"/>, nothing past that layer is
    /// computed and its output is returned; with <paramref name="replace"/>, that layer's output is replaced.
    /// </summary>
    Tensor Run(Tensor input, IReadOnlySet<string> capture, Dictionary<string, Tensor> captured,
        string? stopAfter = null, (string Layer, Tensor Output)? replace = null);

    /// <summary>
    /// Runs the layers after <paramref name="layer"/> from its output alone, when the graph allows it (a
    /// sequence does; a graph with skip connections around the layer does not and returns null).
    /// </summary>
    Tensor? RunFrom(string layer, Tensor output, IReadOnlySet<string> capture, Dictionary<string, Tensor> captured);
}
