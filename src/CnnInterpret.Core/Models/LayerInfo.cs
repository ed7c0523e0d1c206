namespace CnnInterpret.Core.Models;

/// <summary>One layer of a model, as the tree, the CLI and the protocol show it.</summary>
/// <param name="Name">Stable torchvision-style module path, e.g. <c>features.0</c>.</param>
/// <param name="DisplayName">Keras-style friendly name, e.g. <c>block1_conv1</c>.</param>
/// <param name="Kind">Module kind, e.g. <c>Conv2d</c>, <c>ReLU</c>, <c>MaxPool2d</c>, <c>Linear</c>.</param>
/// <param name="Group">The block the layer belongs to (e.g. <c>block1</c>, <c>classifier</c>), for the layer tree.</param>
/// <param name="OutputShape">Shape of one image's output, without the batch dimension.</param>
/// <param name="ParameterCount">Number of trainable scalars in this layer.</param>
public sealed record LayerInfo(
    string Name,
    string DisplayName,
    string Kind,
    string Group,
    int[] OutputShape,
    long ParameterCount)
{
    /// <summary>True when the output is a [C,H,W] map (what feature maps and Grad-CAM need).</summary>
    public bool IsSpatial => OutputShape.Length == 3;
}
