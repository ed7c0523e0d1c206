using CnnInterpret.Core.Imaging;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Occlusion: Zeiler and Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014 (arXiv:1311.2901),
/// §4.2. A square window slides over the image; at each position the pixels under it (all channels) are replaced by a
/// fill and the drop in the target's score, score(image) − score(occluded), is credited to every value under the
/// window; each value's attribution is the mean over the windows that covered it. As Captum's <c>Occlusion</c> with
/// <c>sliding_window_shapes=(C,w,w)</c>, <c>strides=(C,s,s)</c> and the fill as <c>baselines</c>: the first window sits
/// at the corner, ⌈(H − w)/s⌉ + 1 positions per side, the last one cut off at the edge when the stride does not fit,
/// the score the raw logit (or a channel target's mean activation). <see cref="Attribution.Attributions"/> is Captum's
/// [C,H,W] (equal across channels); the map is their sum over channels, so C times the mean drop. Windows go through
/// the network in batches, with progress and cancellation between batches; the answer does not depend on the batch size.
/// Deviation: none in the arithmetic (the sums are kept in float64). The paper fills with gray; the fills offered:
/// black (black pixels, normalised as the model sees them), mean (the image's own mean colour, per channel), blur (a
/// Gaussian blur of the image, σ = an eighth of its larger side: removes detail, keeps colour and layout).
/// </summary>
public sealed class Occlusion : IExplainer
{
    public static readonly IReadOnlyList<string> Fills = ["black", "mean", "blur"];

    public ExplainerInfo Info { get; } = new("occlusion", "Occlusion", "perturbation", MapKind.Pixel, Signed: true, Sampling: true,
        "Zeiler & Fergus, Visualizing and Understanding Convolutional Networks, ECCV 2014 (arXiv:1311.2901); as Captum's Occlusion",
        [
            new ExplainerOption("window", OptionType.Integer, 0,
                "The occluding square's side in pixels; 0: an eighth of the image's shorter side (28 at 224×224, 4 at 28×28). At most the image's size.",
                Minimum: 0, Maximum: 4096),
            new ExplainerOption("stride", OptionType.Integer, 0,
                "Pixels between window positions; 0: half the window. At most the window, so every pixel is covered. Each position is one forward pass.",
                Minimum: 0, Maximum: 4096),
            new ExplainerOption("fill", OptionType.Choice, "black",
                "What the window shows: black (black pixels), mean (the image's mean colour) or blur (a Gaussian blur of the image: detail removed, colour kept).",
                Fills),
        ]);

    public Attribution Explain(ExplainContext context)
    {
        var (window, stride) = Geometry(context);
        int channels = context.Channels, height = context.Height, width = context.Width, plane = height * width;
        var x = context.Input;
        var fill = IntegratedGradients.Baseline(context, context.Options.Choice("fill")); // the same three fills as IG's baselines
        var rows = Positions(height, window, stride);
        var columns = Positions(width, window, stride);
        var total = rows.Length * columns.Length;
        var sums = new double[plane];
        var counts = new int[plane];
        double original;
        using (var _ = no_grad())
        using (NewDisposeScope())
            original = context.Score(context.InputTensor()).to_type(ScalarType.Float64).item<double>();

        var batchSize = context.BatchSize;
        var batch = new float[Math.Min(batchSize, total) * x.Length]; // one buffer for every batch: no large-object garbage per batch
        for (var first = 0; first < total; first += batchSize)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            context.Report(first, total, $"occlusion: windows {first + 1}–{Math.Min(total, first + batchSize)} of {total}");
            var n = Math.Min(batchSize, total - first);
            for (var b = 0; b < n; b++)
            {
                var image = batch.AsSpan(b * x.Length, x.Length);
                x.CopyTo(image);
                var (top, left) = (rows[(first + b) / columns.Length], columns[(first + b) % columns.Length]);
                for (var c = 0; c < channels; c++)
                    for (var r = top; r < Math.Min(height, top + window); r++)
                        fill.AsSpan(c * plane + r * width + left, Math.Min(width, left + window) - left).CopyTo(image[(c * plane + r * width + left)..]);
            }
            double[] scores;
            using (var _ = no_grad())
            using (NewDisposeScope())
                scores = context.Score(NativeTensor.From<float>(batch.AsSpan(0, n * x.Length), n, channels, height, width)).to_type(ScalarType.Float64).data<double>().ToArray();
            for (var b = 0; b < n; b++)
            {
                var (top, left) = (rows[(first + b) / columns.Length], columns[(first + b) % columns.Length]);
                var drop = original - scores[b];
                for (var r = top; r < Math.Min(height, top + window); r++)
                    for (var col = left; col < Math.Min(width, left + window); col++)
                    {
                        sums[r * width + col] += drop;
                        counts[r * width + col]++;
                    }
            }
        }
        context.Report(total, total, "occlusion: done");

        var attributions = new float[x.Length];
        var map = new float[plane];
        for (var p = 0; p < plane; p++)
        {
            var mean = sums[p] / counts[p];
            for (var c = 0; c < channels; c++) attributions[c * plane + p] = (float)mean;
            map[p] = (float)(channels * mean);
        }
        return new Attribution(map, attributions)
        {
            Figures = new Dictionary<string, double> { ["window"] = window, ["stride"] = stride, ["windows"] = total },
        };
    }

    /// <summary>The window and stride in use (defaults resolved), checked against the image.</summary>
    public static (int Window, int Stride) Geometry(ExplainContext context)
    {
        var side = Math.Min(context.Height, context.Width);
        var window = context.Options.Int("window") is > 0 and var w ? w : Math.Max(2, (int)Math.Round(side / 8.0, MidpointRounding.AwayFromZero));
        var stride = context.Options.Int("stride") is > 0 and var s ? s : Math.Max(1, window / 2);
        if (window > side)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Occlusion's window ({window} pixels) is larger than the image ({context.Height}×{context.Width}); use a window from 1 to {side}, or 0 for the default.");
        if (stride > window)
            throw new CnnInterpretException(ErrorKind.InvalidArgument,
                $"Occlusion's stride ({stride}) is larger than its window ({window}), which would leave pixels never occluded; use a stride from 1 to {window}, or 0 for half the window.");
        return (window, stride);
    }

    /// <summary>Where windows start along a side: 0, s, 2s, … ⌈(size − w)/s⌉·s, as Captum counts them.</summary>
    private static int[] Positions(int size, int window, int stride) =>
        Enumerable.Range(0, (size - window + stride - 1) / stride + 1).Select(i => i * stride).ToArray();
}
