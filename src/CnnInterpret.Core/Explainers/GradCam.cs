using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Grad-CAM: Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
/// Localization", ICCV 2017 (arXiv:1610.02391). α_k = spatial mean of ∂y/∂A_k, map = ReLU(Σ_k α_k A_k).
/// As in pytorch-grad-cam, y is the class logit before the softmax (the paper's y^c), or, for a channel
/// target, the channel's mean activation. Deviation: none in the weights; the normalisation (x − min) ÷ max
/// and bilinear upsampling are pytorch-grad-cam's presentation steps, not the paper's.
/// </summary>
public sealed class GradCam : BaseCam
{
    public override ExplainerInfo Info { get; } = CamInfo(GradCamMethod, "Grad-CAM",
        "Selvaraju et al., Grad-CAM, ICCV 2017 (arXiv:1610.02391); as pytorch-grad-cam's GradCAM");

    protected override Tensor Weights(Tensor activations, Tensor gradients) => gradients.mean([2, 3]);
}
