using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// RISE: Petsiuk, Das and Saenko, "RISE: Randomized Input Sampling for Explanation of Black-box Models", BMVC 2018
/// (arXiv:1806.07421), as the authors' code (github.com/eclique/RISE, <c>generate_masks</c>) makes its masks: each of N
/// masks is an s×s grid of cells kept with probability p, bilinearly upsampled to (s+1)·⌈H/s⌉ × (s+1)·⌈W/s⌉ and cropped
/// to H×W at a random shift of less than one cell; the masked image is the normalised input times the mask (so a
/// hidden pixel becomes 0 there: the dataset's mean colour for ImageNet-normalised models). The map is
/// Σ_i score_i · mask_i ÷ (N·p): the expected score given that a pixel is kept. The score is the class probability
/// (softmax), as in the paper, or a channel target's mean activation. Masks are drawn from one seeded generator in
/// order and go through the network in batches, with progress and cancellation between batches; the answer does not
/// depend on the batch size. Deviation: the upsampling is align_corners=false bilinear with the edges clamped, where
/// the authors' skimage resize reflects at the edges (only the outermost half-cell of the upsampled grid differs).
/// </summary>
public sealed class Rise : IExplainer
{
    public ExplainerInfo Info { get; } = new("rise", "RISE", "perturbation", MapKind.Pixel, Signed: false, Sampling: true,
        "Petsiuk et al., RISE: Randomized Input Sampling for Explanation of Black-box Models, BMVC 2018 (arXiv:1806.07421)",
        [
            new ExplainerOption("masks", OptionType.Integer, 2000,
                "Random masks, one forward pass each. The map's noise falls as 1/√N: on fashion-vgg two seeds' maps correlate 0.90 at 2000 masks " +
                "(noise about 6% of the map's range) and 0.79 at 500 (12%); the paper used 4000 and more, for twice the time.", Minimum: 1, Maximum: 100000),
            new ExplainerOption("probability", OptionType.Number, 0.5, "The chance that a cell of a mask is kept.", Minimum: 0.01, Maximum: 0.99),
            new ExplainerOption("grid", OptionType.Integer, 8, "Cells per side of a mask before upsampling (8: the paper's 8×8); more cells, finer detail, more noise.",
                Minimum: 2, Maximum: 64),
            new ExplainerOption("seed", OptionType.Integer, 0, "Seeds the masks: the same seed gives the same map.", Minimum: 0, Maximum: int.MaxValue),
        ]);

    public Attribution Explain(ExplainContext context)
    {
        var options = context.Options;
        int count = options.Int("masks"), grid = options.Int("grid"), height = context.Height, width = context.Width;
        var p = options.Number("probability");
        var masks = new MaskSampler(grid, p, height, width, options.Int("seed"));
        var sum = new double[height * width];
        var batchSize = context.BatchSize;
        for (var first = 0; first < count; first += batchSize)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            context.Report(first, count, $"RISE: masks {first + 1}–{Math.Min(count, first + batchSize)} of {count}");
            var n = Math.Min(batchSize, count - first);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var batch = masks.Next(n); // [n,1,H,W]
            var scores = Score(context, context.InputTensor() * batch);
            var weighted = (scores.to_type(ScalarType.Float64).reshape(n, 1) * batch.reshape(n, -1).to_type(ScalarType.Float64)).sum([0]);
            var values = weighted.data<double>().ToArray();
            for (var i = 0; i < sum.Length; i++) sum[i] += values[i];
        }
        context.Report(count, count, "RISE: done");
        return new Attribution(sum.Select(v => (float)(v / (count * p))).ToArray());
    }

    /// <summary>The class probability, or a channel target's mean activation, for each image of the batch.</summary>
    private static Tensor Score(ExplainContext context, Tensor batch)
    {
        var (logits, captured) = context.Model.Forward(batch, context.Target.Captures);
        return context.Target is Target.Class c ? nn.functional.softmax(logits, 1)[.., c.Index] : context.Target.Score(logits, captured);
    }

    /// <summary>RISE's masks in order from one seeded generator, so a mask does not depend on the batch it falls in.</summary>
    public sealed class MaskSampler(int grid, double probability, int height, int width, int seed)
    {
        private readonly Random _random = new(seed);
        private readonly int _cellHeight = (height + grid - 1) / grid, _cellWidth = (width + grid - 1) / grid;

        /// <summary>The next <paramref name="n"/> masks, [n,1,H,W] float32 in [0,1], in the current dispose scope.</summary>
        public Tensor Next(int n)
        {
            var cells = new float[n * grid * grid];
            var shifts = new (int Y, int X)[n];
            for (var i = 0; i < n; i++)
            {
                for (var k = 0; k < grid * grid; k++) cells[i * grid * grid + k] = _random.NextDouble() < probability ? 1f : 0f;
                shifts[i] = (_random.Next(_cellHeight), _random.Next(_cellWidth));
            }
            var upsampled = nn.functional.interpolate(tensor(cells, [n, 1, grid, grid]), [(grid + 1) * _cellHeight, (grid + 1) * _cellWidth],
                mode: InterpolationMode.Bilinear, align_corners: false);
            return stack(shifts.Select((s, i) => upsampled[i, .., s.Y..(s.Y + height), s.X..(s.X + width)]).ToArray());
        }
    }
}
