using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Score-CAM: Wang et al., "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks", CVPR
/// Workshops 2020 (arXiv:1910.01279). No gradients: each of the layer's K channels is upsampled to the input, min-max
/// normalised to [0,1] and multiplied into the (normalised) input; the target's score on each of those K images,
/// put through a softmax over the channels, is the channel's weight; map = ReLU(Σ_k α_k A_k). K forward passes, in
/// batches of <see cref="ExplainContext.BatchSize"/> images, with progress and cancellation between batches; the
/// answer does not depend on the batch size.
/// As pytorch-grad-cam's <c>score_cam.py</c>: the score is the raw logit (or a channel target's mean activation), the
/// upsampling is <c>UpsamplingBilinear2d</c> (align_corners = true, unlike the final map's), and the normalisation
/// divides by max − min + 1e-8. Deviation from the paper: it scores the softmax probability and normalises the
/// increase over a baseline image; pytorch-grad-cam (and so this) takes the softmax of the raw scores over channels.
/// </summary>
public sealed class ScoreCam : BaseCam
{
    public override ExplainerInfo Info { get; } = CamInfo("score-cam", "Score-CAM",
        "Wang et al., Score-CAM, CVPR Workshops 2020 (arXiv:1910.01279); as pytorch-grad-cam's ScoreCAM", sampling: true);

    protected override bool UsesGradients => false;

    protected override bool NeedsModel => true;

    protected override (Tensor Map, Tensor? Weights) Combine(Tensor activations, Tensor gradients, ExplainContext? context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var channels = (int)activations.shape[1];
        var scores = new float[channels];
        var batchSize = context.BatchSize;
        using (var _ = no_grad())
        {
            var input = context.InputTensor();
            for (var first = 0; first < channels; first += batchSize)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                context.Report(first, channels, $"Score-CAM: channels {first + 1}–{Math.Min(channels, first + batchSize)} of {channels}");
                using var scope = NewDisposeScope();
                var n = Math.Min(batchSize, channels - first);
                var maps = nn.functional.interpolate(activations[0, first..(first + n)].unsqueeze(1), [context.Height, context.Width],
                    mode: InterpolationMode.Bilinear, align_corners: true); // [n,1,H,W]
                var flat = maps.flatten(1);
                var low = flat.min(1).values.reshape(n, 1, 1, 1);
                var high = flat.max(1).values.reshape(n, 1, 1, 1);
                var masked = input * ((maps - low) / (high - low + 1e-8f)); // [n,C,H,W]
                context.Score(masked).to_type(ScalarType.Float32).data<float>().CopyTo(scores, first);
            }
            context.Report(channels, channels, "Score-CAM: done");
        }
        var weights = nn.functional.softmax(tensor(scores), 0).unsqueeze(0); // [1,K]
        return ((weights[.., .., TensorIndex.None, TensorIndex.None] * activations).sum(1), weights);
    }
}
