using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// XGrad-CAM: Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation of CNNs", BMVC 2020
/// (arXiv:2008.02312). α_k = Σ_ij (A_k,ij ÷ Σ_ab A_k,ab) · ∂y/∂A_k,ij: the gradients averaged with the channel's own
/// activations as weights (where Grad-CAM weighs every position equally), chosen to satisfy the paper's sensitivity
/// and conservation axioms. As pytorch-grad-cam's <c>xgrad_cam.py</c>, whose ε = 1e-7 in the denominator keeps an
/// all-zero channel at weight 0; deviation: none.
/// </summary>
public sealed class XGradCam : BaseCam
{
    public override ExplainerInfo Info { get; } = CamInfo("xgrad-cam", "XGrad-CAM",
        "Fu et al., Axiom-based Grad-CAM, BMVC 2020 (arXiv:2008.02312); as pytorch-grad-cam's XGradCAM");

    protected override Tensor Weights(Tensor activations, Tensor gradients) =>
        (gradients * activations / (activations.sum([2, 3], keepdim: true) + 1e-7f)).sum([2, 3]);
}
