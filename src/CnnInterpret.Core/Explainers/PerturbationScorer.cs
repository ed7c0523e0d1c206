using System.Diagnostics;
using CnnInterpret.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>What a sampling explainer reads off the model for each perturbed image.</summary>
public enum ScoreKind
{
    /// <summary>The softmax probability of the target class (lime's choice). A channel target gives its mean activation.</summary>
    Probability,

    /// <summary>The target's raw score: a class logit, or a channel's mean activation.</summary>
    Logit,
}

/// <summary>
/// Scores coalitions of superpixels for LIME and KernelSHAP. A coalition is a mask row (one byte per segment,
/// 1 = shown); the perturbed image fill + (input − fill)·mask is built from it batch by batch, scored, and
/// dropped: only the masks and one number per sample and target are ever kept, so memory is flat in the
/// number of samples. The batch size comes from a memory budget (<see cref="BatchSizeFor"/>), and a batch's
/// scores do not depend on which batch a mask lands in.
/// </summary>
/// <param name="inert">Per segment: true when hiding it changes no pixel (the image already equals the fill there),
/// so no score can depend on it; null: none is.</param>
public sealed class PerturbationScorer(int segments, int targets, int batchSize, Func<byte[], int, int, double[]> scoreBatch, bool[]? inert = null)
{
    private long _evaluations;

    public int Segments { get; } = segments;

    /// <summary>Scores per sample (one per target explained).</summary>
    public int Targets { get; } = targets;

    public int BatchSize { get; } = batchSize >= 1 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize));

    /// <summary>
    /// The segments hiding can change: all but the inert ones (say black background under a black fill). LIME and
    /// KernelSHAP fit only these and give the others exactly 0, their value in the limit (a dummy player's Shapley
    /// value is 0), instead of noise. When every segment is inert, all of them (the answer is then 0 anyway).
    /// </summary>
    public int[] Active { get; } = inert is null || inert.Length != segments || inert.All(i => i)
        ? Enumerable.Range(0, segments).ToArray()
        : Enumerable.Range(0, segments).Where(j => !inert[j]).ToArray();

    /// <summary>Masks scored so far (model evaluations).</summary>
    public long Evaluations => Interlocked.Read(ref _evaluations);

    /// <summary>
    /// Scores mask rows [start, start+count) into <paramref name="scores"/> ([rows, Targets], row-major), a batch
    /// at a time, calling <paramref name="afterBatch"/> with the number of rows scored from 0. Checks
    /// cancellation between batches and then stops early: returns how many of the rows were scored.
    /// </summary>
    public int Score(byte[] masks, double[] scores, int start, int count, CancellationToken cancellation, Action<int>? afterBatch = null)
    {
        var done = 0;
        while (done < count && !cancellation.IsCancellationRequested)
        {
            var size = Math.Min(BatchSize, count - done);
            var batch = scoreBatch(masks, start + done, size);
            Array.Copy(batch, 0, scores, (start + done) * Targets, size * Targets);
            Interlocked.Add(ref _evaluations, size);
            done += size;
            afterBatch?.Invoke(start + done);
        }
        return done;
    }

    /// <summary>A scorer over a CNN: hidden segments take the values of <paramref name="fill"/>.</summary>
    /// <param name="input">The normalised model input [C,H,W].</param>
    public static PerturbationScorer ForModel(CnnModel model, float[] input, float[] fill, Segmentation segmentation,
        IReadOnlyList<Target> targets, ScoreKind kind, int batchSize)
    {
        var shape = model.Input.InputShape.Select(d => (long)d).ToArray();
        var labels = segmentation.Labels.Select(l => (long)l).ToArray();
        var difference = input.Zip(fill, (x, f) => x - f).ToArray();
        var captures = targets.SelectMany(t => t.Captures).ToHashSet();
        int s = segmentation.Count;
        var inert = Enumerable.Repeat(true, s).ToArray();
        for (var i = 0; i < difference.Length; i++)
            if (difference[i] != 0) inert[segmentation.Labels[i % labels.Length]] = false;
        return new PerturbationScorer(s, targets.Count, batchSize, (masks, start, count) =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var z = NativeTensor.From<byte>(masks.AsSpan(start * s, count * s), count, s).to_type(ScalarType.Float32);
            var pixels = z.index_select(1, NativeTensor.From<long>(labels, labels.Length)).reshape(count, 1, shape[1], shape[2]);
            var x = NativeTensor.From<float>(fill, [1, .. shape]) + NativeTensor.From<float>(difference, [1, .. shape]) * pixels;
            var (logits, captured) = model.Forward(x, captures);
            return Scores(targets, kind, logits, captured).to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        }, inert);
    }

    /// <summary>[N, targets]: each target's score of each batch item.</summary>
    public static Tensor Scores(IReadOnlyList<Target> targets, ScoreKind kind, Tensor logits, IReadOnlyDictionary<string, Tensor> captured)
    {
        var probabilities = kind == ScoreKind.Probability && targets.Any(t => t is Target.Class) ? nn.functional.softmax(logits, 1) : null;
        return stack(targets.Select(t => t is Target.Class c && probabilities is not null ? probabilities[.., c.Index] : t.Score(logits, captured)).ToArray(), 1);
    }

    public const long DefaultBudgetBytes = 1L << 30;
    public const int MaxBatch = 256;

    /// <summary>
    /// How many perturbed images fit in <paramref name="budgetBytes"/> of activations: every layer's output of
    /// one image stays alive until its batch is done (plus the image, its mask and its perturbed copy; three
    /// times that with gradients). The weights are not part of the budget. At most <see cref="MaxBatch"/>; an out-of-memory
    /// error when not even one image fits.
    /// </summary>
    public static int BatchSizeFor(CnnModel model, long budgetBytes, bool gradients = false)
    {
        if (budgetBytes < 1 << 20)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"The memory budget must be at least 1 MiB; got {budgetBytes} bytes.");
        var perSample = 4L * (3L * model.Input.InputShape.Aggregate(1, (a, b) => a * b)
                              + model.Layers.Sum(l => (long)l.OutputShape.Aggregate(1, (a, b) => a * b)));
        if (gradients) perSample *= 3;
        return Memory.MemoryBudget.BatchSize(perSample, MaxBatch, budgetBytes, $"a batch of {model.Id}'s perturbed images");
    }
}

/// <summary>Says when a partial result is due: the first time it is asked, then about every <paramref name="interval"/>.</summary>
public sealed class PartialTimer(TimeSpan interval)
{
    private readonly Stopwatch _clock = new();

    public bool Due()
    {
        if (_clock.IsRunning && _clock.Elapsed < interval) return false;
        _clock.Restart();
        return true;
    }
}

/// <summary>An explanation so far: <see cref="Values"/> per target (per segment, or per input element).</summary>
public sealed record AttributionPartial(int Samples, int Total, double[][] Values, double? Stability = null);
