using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Tests.Trust;

public sealed class FaithfulnessTests
{
    /// <summary>Multiplies the image by fixed per-pixel weights: its channel-mean score is linear, so curves can be computed by hand.</summary>
    private sealed class Weighted : Module<Tensor, Tensor>
    {
        private readonly Tensor _weights;

        public Weighted(float[] weights, int height, int width) : base(nameof(Weighted))
        {
            _weights = tensor(weights, [1, 1, height, width]);
            register_buffer("weights", _weights);
        }

        public override Tensor forward(Tensor x) => x * _weights;
    }

    /// <summary>Logits [k·Σ(x·mask), 0]: only the pixels under the mask matter to class 0.</summary>
    private sealed class MaskedLogit : Module<Tensor, Tensor>
    {
        private readonly Tensor _mask;

        public MaskedLogit(float[] mask, int size) : base(nameof(MaskedLogit))
        {
            _mask = tensor(mask, [1, 1, size, size]);
            register_buffer("mask", _mask);
        }

        public override Tensor forward(Tensor x)
        {
            var evidence = (x * _mask).sum([1, 2, 3]) * 0.5f;
            return stack([evidence - 4, zeros_like(evidence)], 1);
        }
    }

    private static CnnModel Model(int size, params (string Name, string Kind, Module<Tensor, Tensor> Module)[] layers) =>
        new("test", "Test", new Preprocessing("gray", size, [size, size], [0f], [1f]), ["a", "b"],
            layers.Select(l => (l.Name, l.Name, l.Kind, "block1", l.Module)).ToList());

    [Fact]
    public void Auc_is_the_trapezoid_rule_over_equal_steps()
    {
        Assert.Equal(1.25 / 3, Faithfulness.Auc([1, 0.5, 0.25, 0]), 12);
        Assert.Equal(0.5, Faithfulness.Auc([0, 1]), 12);
        Assert.Equal(1, Faithfulness.Auc([1, 1, 1]), 12);
    }

    [Fact]
    public void Curves_on_a_four_pixel_image_match_the_hand_computation()
    {
        // Score = mean over the 4 pixels of x·w with w = [4, 3, 2, 1]; image all ones; the map ranks pixels 0,1,2,3.
        using var model = Model(2, ("features.0", "Weighted", new Weighted([4, 3, 2, 1], 2, 2)));
        var target = new Target.Channel("features.0", 0);
        var order = Faithfulness.Order([4f, 3f, 2f, 1f]);
        Assert.Equal([0, 1, 2, 3], order);
        var curves = Faithfulness.Curves(model, [1, 1, 1, 1], removed: [0, 0, 0, 0], blurred: [0, 0, 0, 0], target, order, steps: 4, batchSize: 3);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], curves.Fractions);
        Assert.Equal([2.5, 1.5, 0.75, 0.25, 0], curves.Deletion.Select(v => Math.Round(v, 6)));
        Assert.Equal([0, 1, 1.75, 2.25, 2.5], curves.Insertion.Select(v => Math.Round(v, 6)));
        Assert.Equal(0.9375, curves.DeletionAuc, 6);   // ((2.5+1.5) + (1.5+0.75) + (0.75+0.25) + (0.25+0)) / 2 / 4
        Assert.Equal(1.5625, curves.InsertionAuc, 6);  // ((0+1) + (1+1.75) + (1.75+2.25) + (2.25+2.5)) / 2 / 4
    }

    [Fact]
    public void On_a_model_where_one_region_matters_the_right_map_beats_random_and_wrong_maps()
    {
        const int size = 8;
        var mask = new float[size * size];
        for (var y = 1; y < 4; y++) for (var x = 1; x < 4; x++) mask[y * size + x] = 1; // a 3×3 region
        using var model = Model(size, ("features.0", "MaskedLogit", new MaskedLogit(mask, size)));
        var image = Enumerable.Repeat(1f, size * size).ToArray();
        var black = new float[size * size];
        var target = new Target.Class(0);

        var right = Faithfulness.Curves(model, image, black, black, target, Faithfulness.Order(mask), steps: 16);
        var wrong = Faithfulness.Curves(model, image, black, black, target, Faithfulness.Order(mask.Select(m => 1 - m).ToArray()), steps: 16);
        var random = Faithfulness.RandomReference(model, image, black, black, target, steps: 16, seed: 1);

        Assert.True(right.DeletionAuc < 0.5 * random.DeletionAuc, $"right {right.DeletionAuc:F3} vs random {random.DeletionAuc:F3}");
        Assert.True(random.DeletionAuc < wrong.DeletionAuc, $"random {random.DeletionAuc:F3} vs wrong {wrong.DeletionAuc:F3}");
        Assert.True(right.InsertionAuc > random.InsertionAuc && random.InsertionAuc > wrong.InsertionAuc,
            $"insertion right {right.InsertionAuc:F3}, random {random.InsertionAuc:F3}, wrong {wrong.InsertionAuc:F3}");
        Assert.Equal(right.Deletion[0], wrong.Deletion[0], 9); // the same unperturbed image at step 0
    }

    [Fact]
    public void Batch_size_does_not_change_the_curves()
    {
        using var model = Model(2, ("features.0", "Weighted", new Weighted([4, 3, 2, 1], 2, 2)));
        var target = new Target.Channel("features.0", 0);
        var a = Faithfulness.Curves(model, [1, 2, 3, 4], [0, 0, 0, 0], [1, 1, 1, 1], target, [3, 1, 0, 2], steps: 4, batchSize: 1);
        var b = Faithfulness.Curves(model, [1, 2, 3, 4], [0, 0, 0, 0], [1, 1, 1, 1], target, [3, 1, 0, 2], steps: 4, batchSize: 64);
        Assert.Equal(a.Deletion, b.Deletion);
        Assert.Equal(a.Insertion, b.Insertion);
        Assert.Throws<CnnInterpretException>(() => Faithfulness.Curves(model, [1, 2, 3, 4], [0, 0, 0, 0], [1, 1, 1, 1], target, [3, 1, 0, 2], steps: 5));
    }
}
