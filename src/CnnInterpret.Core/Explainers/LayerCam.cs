using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// LayerCAM: Jiang et al., "LayerCAM: Exploring Hierarchical Class Activation Maps for Localization", IEEE TIP 30, 2021
/// (doi:10.1109/TIP.2021.3089943). map = ReLU(Σ_k ReLU(∂y/∂A_k) ⊙ A_k): each position weighted by its own positive
/// gradient, which keeps fine detail at shallow layers where Grad-CAM's channel averages blur it. As pytorch-grad-cam's
/// <c>layer_cam.py</c>. Deviation: the paper combines several layers' maps (each scaled by tanh); like
/// pytorch-grad-cam with one target layer, this is the map of one layer.
/// </summary>
public sealed class LayerCam : BaseCam
{
    public override ExplainerInfo Info { get; } = CamInfo("layer-cam", "LayerCAM",
        "Jiang et al., LayerCAM, IEEE TIP 2021 (doi:10.1109/TIP.2021.3089943); as pytorch-grad-cam's LayerCAM");

    protected override (Tensor Map, Tensor? Weights) Combine(Tensor activations, Tensor gradients, ExplainContext? context) =>
        ((gradients.clamp_min(0) * activations).sum(1), null);
}
