using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// HiResCAM: Draelos and Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations of convolutional neural
/// networks", 2020 (arXiv:2011.08891). map = ReLU(Σ_k ∂y/∂A_k ⊙ A_k): each position keeps its own gradient instead of
/// Grad-CAM's channel average, so for a network that ends in a global average pool and one dense layer the map is
/// exactly what each position adds to the score. As pytorch-grad-cam's <c>hirescam.py</c>; deviation: none.
/// </summary>
public sealed class HiResCam : BaseCam
{
    public override ExplainerInfo Info { get; } = CamInfo("hires-cam", "HiResCAM",
        "Draelos & Carin, HiResCAM, 2020 (arXiv:2011.08891); as pytorch-grad-cam's HiResCAM");

    protected override (Tensor Map, Tensor? Weights) Combine(Tensor activations, Tensor gradients, ExplainContext? context) =>
        ((gradients * activations).sum(1), null);
}
