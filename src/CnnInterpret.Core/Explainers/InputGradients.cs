using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// What the gradient methods share (Captum's <c>gradient_func</c>): the target's score and its gradient with respect
/// to the input pixels, for one image or for a stream of points that go through the network in batches (integrated
/// gradients' path, SmoothGrad's noisy copies). Points are made and consumed in order as managed arrays, so a
/// method's answer does not depend on how the stream is cut into batches.
/// </summary>
internal static class InputGradients
{
    /// <summary>The common info of a gradient method: a pixel method of the "gradients" group.</summary>
    public static ExplainerInfo Info(string name, string displayName, bool signed, bool sampling, string paper, params ExplainerOption[] options) =>
        new(name, displayName, "gradients", MapKind.Pixel, signed, sampling, paper, options);

    /// <summary>∂score/∂x at <paramref name="image"/> [C,H,W] (the context's input by default): the gradient [C·H·W] and the score.</summary>
    public static (float[] Gradient, float Score) Of(ExplainContext context, float[]? image = null)
    {
        var (gradients, scores) = Batch(context, image ?? context.Input, 1);
        return (gradients, scores[0]);
    }

    /// <summary>
    /// Runs <paramref name="count"/> points through the network, <see cref="BatchSize"/> at a time:
    /// <paramref name="fill"/>(k, pixels) writes point k (called in order of k), and <paramref name="consume"/>(k,
    /// gradient) receives its gradient (in order of k). Reports progress after each batch and checks for cancellation
    /// before each.
    /// </summary>
    public static void Stream(ExplainContext context, int count, string what, Action<int, Span<float>> fill, Action<int, ReadOnlySpan<float>> consume) =>
        Stream(context, count, what, fill, (k, gradient, _) => consume(k, gradient));

    /// <summary>
    /// <see cref="Stream(ExplainContext, int, string, Action{int, Span{float}}, Action{int, ReadOnlySpan{float}})"/> that
    /// also hands each point's score to <paramref name="consume"/>. When the points come in several calls (integrated
    /// gradients' adaptive rule), <paramref name="doneBefore"/> and <paramref name="total"/> keep the progress whole.
    /// </summary>
    public static void Stream(ExplainContext context, int count, string what, Action<int, Span<float>> fill, Action<int, ReadOnlySpan<float>, float> consume,
        int doneBefore = 0, int? total = null)
    {
        var size = context.Input.Length;
        var batchSize = BatchSize(context);
        var all = total ?? count;
        var points = new float[Math.Min(batchSize, count) * size];
        for (var start = 0; start < count; start += batchSize)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var n = Math.Min(batchSize, count - start);
            for (var i = 0; i < n; i++) fill(start + i, points.AsSpan(i * size, size));
            var (gradients, scores) = Batch(context, points, n);
            for (var i = 0; i < n; i++) consume(start + i, gradients.AsSpan(i * size, size), scores[i]);
            var done = doneBefore + start + n;
            context.Report(done, all, $"{what}: {done} of {all}");
        }
    }

    /// <summary>
    /// Points per forward/backward pass: the context's batch, but no more than fit in the sampling memory budget with
    /// gradients (a backward keeps every layer's output of the whole batch alive: VGG16 at 224×224 takes about
    /// 130 MiB a point, so 27 points would hold 3.5 GiB; on the CPU a larger batch is hardly faster per point).
    /// </summary>
    public static int BatchSize(ExplainContext context) =>
        Math.Max(1, Math.Min(context.BatchSize, PerturbationScorer.BatchSizeFor(context.Model, Memory.MemoryBudget.BatchBytes, gradients: true)));

    /// <summary>The target's score for each of <paramref name="images"/> ([C,H,W] each), in one forward without gradients.</summary>
    public static float[] Scores(ExplainContext context, params float[][] images)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = NativeTensor.From<float>(images.SelectMany(i => i).ToArray(), images.Length, context.Channels, context.Height, context.Width);
        return context.Score(batch).contiguous().data<float>().ToArray();
    }

    /// <summary>A pixel method's answer from its attributions [C,H,W]: the map is their sum over the channels.</summary>
    public static Attribution Pixel(ExplainContext context, float[] attributions)
    {
        var plane = context.Height * context.Width;
        var map = new float[plane];
        for (var c = 0; c < context.Channels; c++)
            for (var i = 0; i < plane; i++) map[i] += attributions[c * plane + i];
        return new Attribution(map, attributions);
    }

    /// <summary>Gradients [n·C·H·W] and scores [n] of the first <paramref name="n"/> images in <paramref name="points"/>.</summary>
    private static (float[] Gradients, float[] Scores) Batch(ExplainContext context, float[] points, int n)
    {
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var size = context.Input.Length;
        var x = NativeTensor.From<float>(points.AsSpan(0, n * size), n, context.Channels, context.Height, context.Width).requires_grad_(true);
        var scores = context.Score(x);
        // allow_unused: a score that does not depend on the pixels has no gradient; it is zero.
        var gradient = autograd.grad([scores.sum()], [x], allow_unused: true)[0];
        var values = gradient is { IsInvalid: false } g ? g.contiguous().data<float>().ToArray() : new float[n * size];
        return (values, scores.detach().contiguous().data<float>().ToArray());
    }
}
