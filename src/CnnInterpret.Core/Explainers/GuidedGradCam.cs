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
        var (lowRes, h, w) = GradCamMap(context);
        var guided = GuidedBackprop.Gradient(context);
        using var scope = NewDisposeScope();
        var upsampled = nn.functional.interpolate(tensor(lowRes, [1, 1, h, w]), [context.Height, context.Width], mode: InterpolationMode.Nearest)
            .contiguous().data<float>().ToArray();
        var plane = upsampled.Length;
        var attributions = guided.Select((g, i) => g * upsampled[i % plane]).ToArray();
        return InputGradients.Pixel(context, attributions) with { LowRes = lowRes, LowResShape = [h, w] };
    }

    /// <summary>
    /// Grad-CAM's map at the layer, ReLU(Σ_k α_k A_k) before normalisation, and its size: one forward capturing the
    /// layer and one backward to it, as <see cref="BaseCam"/> runs them, but sized by the activations themselves (the
    /// input may be another size than the model's default, as in the parity tests).
    /// </summary>
    private static (float[] LowRes, int Height, int Width) GradCamMap(ExplainContext context)
    {
        context.Cancellation.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        var layer = context.RequireLayer().Name;
        var (logits, captured) = context.Model.Forward(context.InputTensor(), context.Target.Captures.Append(layer).ToHashSet());
        var activations = captured[layer];
        var score = context.Target.Score(logits, captured);
        var gradients = autograd.grad([score.sum()], [activations], allow_unused: true)[0] is { IsInvalid: false } g ? g : zeros_like(activations);
        var (_, lowRes, _) = GradCam.Compute(activations.detach(), gradients, context.Height, context.Width);
        return (lowRes, (int)activations.shape[2], (int)activations.shape[3]);
    }
}
