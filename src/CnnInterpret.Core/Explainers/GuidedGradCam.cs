using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Guided Grad-CAM: Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
/// Localization", ICCV 2017 (arXiv:1610.02391), section 3.1; Captum's <c>GuidedGradCam</c>. Guided backprop
/// (<see cref="GuidedBackprop"/>) multiplied, value by value, by the Grad-CAM map of a layer, ReLU(Σ_k α_k A_k),
/// upsampled to the input. As Captum: the Grad-CAM map is the raw one (not normalised) and it is upsampled by
/// nearest neighbour (Captum's default <c>interpolate_mode</c>), so the attributions keep guided backprop's units.
/// Deviation: the paper upsamples bilinearly; we follow Captum for parity. A pixel method that takes a layer
/// (<see cref="ExplainerInfo.UsesLayer"/>; default the last conv layer, as for Grad-CAM).
/// </summary>
public sealed class GuidedGradCam : IExplainer
{
    private static readonly GradCam GradCam = new();

    public ExplainerInfo Info { get; } = InputGradients.Info("guided-grad-cam", "Guided Grad-CAM", signed: true, sampling: false,
        "Selvaraju et al., Grad-CAM, ICCV 2017 (arXiv:1610.02391); as Captum's GuidedGradCam (nearest upsampling)") with { UsesLayer = true };

    public Attribution Explain(ExplainContext context)
    {
        var cam = GradCam.Explain(context);
        var guided = GuidedBackprop.Gradient(context);
        using var scope = NewDisposeScope();
        int h = cam.LowResShape![0], w = cam.LowResShape[1];
        var upsampled = nn.functional.interpolate(tensor(cam.LowRes!, [1, 1, h, w]), [context.Height, context.Width], mode: InterpolationMode.Nearest)
            .contiguous().data<float>().ToArray();
        var plane = upsampled.Length;
        var attributions = guided.Select((g, i) => g * upsampled[i % plane]).ToArray();
        return InputGradients.Pixel(context, attributions) with { LowRes = cam.LowRes, LowResShape = cam.LowResShape };
    }
}
