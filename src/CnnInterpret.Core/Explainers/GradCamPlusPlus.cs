using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Grad-CAM++: Chattopadhyay et al., "Grad-CAM++: Improved Visual Explanations for Deep Convolutional
/// Networks", WACV 2018 (arXiv:1710.11063), eq. 19, as pytorch-grad-cam's <c>grad_cam_plusplus.py</c> implements it:
/// with g = ∂y/∂A, a_ij = g² ÷ (2g² + Σ_ab A_ab · g³ + ε), set to 0 where g = 0, and α_k = Σ_ij a_ij · ReLU(g_ij).
/// Deviation from the paper: the paper derives the powers of g for y = exp(S) and so uses the exponential of
/// the score; here (as in pytorch-grad-cam) g is the gradient of the raw logit, and ε = 1e-6 guards the division.
/// </summary>
public sealed class GradCamPlusPlus : BaseCam
{
    public override ExplainerInfo Info { get; } = CamInfo(GradCamPlusPlusMethod, "Grad-CAM++",
        "Chattopadhyay et al., Grad-CAM++, WACV 2018 (arXiv:1710.11063); as pytorch-grad-cam's GradCAMPlusPlus");

    protected override Tensor Weights(Tensor activations, Tensor gradients)
    {
        var g2 = gradients.square();
        var g3 = g2 * gradients;
        var sumA = activations.sum([2, 3], keepdim: true);
        var a = g2 / (2 * g2 + sumA * g3 + 1e-6f);
        a = where(gradients != 0, a, zeros_like(a));
        return (gradients.clamp_min(0) * a).sum([2, 3]);
    }
}
