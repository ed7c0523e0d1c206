using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using CnnInterpret.Tests.GradCam;
using static CnnInterpret.Tests.Gradients.GradientModels;

namespace CnnInterpret.Tests.Gradients;

/// <summary>The gradient methods on networks small enough to differentiate by hand.</summary>
public sealed class GradientTinyNetworkTests
{
    private static void Close(IEnumerable<double> expected, IEnumerable<float> actual, double tolerance = 1e-6) =>
        Assert.All(expected.Zip(actual), p => Assert.True(Math.Abs(p.First - p.Second) <= tolerance, $"expected {p.First}, got {p.Second}"));

    private static IEnumerable<double> Row(int c, Func<int, double> f) => Enumerable.Range(0, 16).Select(f);

    /// <summary>On f(x) = Wx + b the gradient is the row W_c: saliency |W_c|, gradient × input W_c x.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void On_a_linear_model_saliency_is_the_weights_and_gradient_x_input_is_their_product_with_the_input(int c)
    {
        using var model = Linear();
        var saliency = Run(model, X, "saliency", new Target.Class(c));
        Close(Row(c, k => Math.Abs(W(c, k))), saliency.Attributions!);
        Assert.Equal(saliency.Attributions, saliency.Map); // one channel: the map is the attributions
        var product = Run(model, X, "gradient-x-input", new Target.Class(c));
        Close(Row(c, k => W(c, k) * X[k]), product.Attributions!);
    }

    /// <summary>
    /// Along a straight path the gradient of a linear model is constant, so integrated gradients from the zero baseline
    /// is gradient × input exactly (Gauss–Legendre weights sum to 1), and complete: Σ = f(x) − f(0) = W_c x. Captum's
    /// trapezoid weights sum to 1 − 1/n, and so does its answer.
    /// </summary>
    [Theory]
    [InlineData("gausslegendre", 64, 1.0)]
    [InlineData("gausslegendre", 5, 1.0)]
    [InlineData("riemann_middle", 8, 1.0)]
    [InlineData("riemann_trapezoid", 64, 63.0 / 64)]
    [InlineData("riemann_trapezoid", 2, 0.5)]
    public void On_a_linear_model_integrated_gradients_from_zero_is_gradient_x_input(string rule, int steps, double share)
    {
        using var model = Linear();
        var ig = Run(model, X, "integrated-gradients", new Target.Class(1), Options(("rule", rule), ("steps", steps), ("baseline", "black")));
        Close(Row(1, k => share * W(1, k) * X[k]), ig.Attributions!);
        var fx = Enumerable.Range(0, 16).Sum(k => (double)W(1, k) * X[k]) - 0.25;
        Assert.Equal(fx, ig.Figures["score"], 5);
        Assert.Equal(-0.25, ig.Figures["baselineScore"], 6);
        Assert.Equal(Math.Abs(share - 1), ig.Figures["completenessError"], 5);
        Assert.Equal(share < 0.95, ig.Note?.Contains("Take more steps") == true); // over 5% off: the note says so
    }

    /// <summary>
    /// f = 2·relu(x₁₄ ÷ 2 − 0.3) on the path from 0 to X (x₁₄ = 2): the slope is 0 until α = 0.3 and 2 after, so the
    /// integral is 2 · 0.7. The adaptive rule's 9 steps start at 0, ¼, ½, ¾, 1 and bisect the one stretch whose trapezoid
    /// misses the score's change (the one holding the kink) four times: 0.375, 0.3125, 0.28125, 0.296875. The kink then
    /// sits in [0.296875, 0.3125], which the trapezoid counts half: 0.6875 + 0.0078125 = 0.6953125 of the path, by hand.
    /// Nine even points (Captum's trapezoid, weights summing to 1) leave it in [0.25, 0.375]: 0.6875.
    /// </summary>
    [Fact]
    public void The_adaptive_rule_bisects_where_the_gradient_jumps()
    {
        using var model = Kink();
        var ig = Run(model, X, "integrated-gradients", new Target.Class(0), Options(("steps", 9), ("baseline", "black")), batchSize: 1);
        Close(Enumerable.Range(0, 16).Select(k => k == 14 ? 2 * 0.6953125 : 0.0), ig.Attributions!, 1e-6);
        Assert.Equal(1.4, ig.Figures["score"], 5);
        Assert.Equal(0, ig.Figures["baselineScore"], 6);
        Assert.Equal((1.4 - 2 * 0.6953125) / 1.4, ig.Figures["completenessError"], 5);
    }

    /// <summary>
    /// f = 2·relu(x₁₄ ÷ 2) from 0 to X: the unit sits exactly on its switch at the baseline, where ReLU's gradient is 0,
    /// and is on everywhere after it, so the slope is 2 on all of (0, 1] and the integral is 1 · 2 = f(X) − f(0). Taken
    /// at α = 0, that stray gradient would make the first stretch miss its change, and the 9 steps would bisect it four
    /// times and still count it half over [0, 1/64]: 2 · 127/128. Taken just inside the path, every stretch is straight
    /// and the answer is exact.
    /// </summary>
    [Fact]
    public void The_adaptive_rule_takes_the_paths_start_just_inside_it()
    {
        using var model = Kink(bias: 0);
        var ig = Run(model, X, "integrated-gradients", new Target.Class(0), Options(("steps", 9), ("baseline", "black")), batchSize: 1);
        Close(Enumerable.Range(0, 16).Select(k => k == 14 ? 2.0 : 0.0), ig.Attributions!, 1e-6);
        Assert.Equal(0, ig.Figures["baselineScore"], 6);
        Assert.Equal(0, ig.Figures["completenessError"], 6);
    }

    /// <summary>f = 2·relu(x₁₄ ÷ 2 + bias), class 1 = −relu(…): one unit that switches on where x₁₄ = −2·bias.</summary>
    private static CnnModel Kink(float bias = -0.3f)
    {
        var model = new CnnModel("tiny-kink", "Tiny kink", GradientModels.Identity, ["a", "b"],
        [
            ("flatten", "flatten", "Flatten", "head", Flatten()),
            ("classifier.0", "fc1", "Linear", "classifier", nn.Linear(16, 1)),
            ("classifier.1", "fc1_relu", "ReLU", "classifier", ReLU()),
            ("classifier.2", "predictions", "Linear", "classifier", nn.Linear(1, 2)),
        ]);
        using var scope = NewDisposeScope();
        model.LoadWeights(new Dictionary<string, Tensor>
        {
            ["classifier.0.weight"] = tensor(Enumerable.Range(0, 16).Select(k => k == 14 ? 0.5f : 0f).ToArray(), [1, 16]),
            ["classifier.0.bias"] = tensor(new[] { bias }),
            ["classifier.2.weight"] = tensor(new[] { 2f, -1f }, [2, 1]),
            ["classifier.2.bias"] = tensor(new[] { 0f, 0f }),
        }, "tiny-kink", "hand-made weights");
        return model;
    }

    /// <summary>The gradient of a linear model is the same at every noisy copy, so SmoothGrad over saliency is |W_c| whatever the noise.</summary>
    [Theory]
    [InlineData(0.15, 0)]
    [InlineData(1.0, 7)]
    public void On_a_linear_model_smoothgrad_over_saliency_is_the_weights(double noise, int seed)
    {
        using var model = Linear();
        var smooth = Run(model, X, "smoothgrad", new Target.Class(1), Options(("noise", noise), ("seed", seed), ("samples", 9)), batchSize: 4);
        Close(Row(1, k => Math.Abs(W(1, k))), smooth.Attributions!);
        Assert.Equal(noise * (X.Max() - X.Min()), smooth.Figures["sigma"], 6);
    }

    /// <summary>
    /// Over integrated gradients from zero, each noisy copy x_s gets W ⊙ x_s, so the mean is W ⊙ (x + mean noise) and its
    /// sum is the mean of f(x_s) − f(0): with zero noise, exactly integrated gradients.
    /// </summary>
    [Fact]
    public void Smoothgrad_over_integrated_gradients_without_noise_is_integrated_gradients()
    {
        using var model = Linear();
        var smooth = Run(model, X, "smoothgrad", new Target.Class(0),
            Options(("base", "integrated-gradients"), ("noise", 0), ("samples", 3), ("steps", 4)), batchSize: 5);
        Close(Row(0, k => W(0, k) * X[k]), smooth.Attributions!);
    }

    // The CAM network of TinyModels: x (4×4) → conv(centre taps +1, −1) → ReLU → mean over the 16 positions →
    // W = [[1, 2], [−1, 0.5]]. Channel 0 is relu(x), channel 1 relu(−x), so ∂y_c/∂x = (W[c,0]·1[x>0] − W[c,1]·1[x<0]) ÷ 16.

    /// <summary>
    /// For class 1 the ReLU of channel 0 receives W[1,0]/16 = −1/16 &lt; 0, which guided backprop blocks; channel 1 receives
    /// +0.5/16 and its conv (weight −1) turns it into −0.5/16 where x &lt; 0. The plain gradient keeps channel 0's −1/16.
    /// For class 0 both ReLUs receive positive gradients, so guided backprop is the plain gradient.
    /// </summary>
    [Fact]
    public void Guided_backprop_blocks_negative_gradients_at_the_relus()
    {
        using var model = TinyModels.Build(inPlaceRelu: false);
        var x = TinyModels.X;
        var guided1 = Run(model, x, "guided-backprop", new Target.Class(1));
        Close(x.Select(v => v < 0 ? -0.5 / 16 : 0), guided1.Attributions!);
        var plain1 = Run(model, x, "gradient-x-input", new Target.Class(1));
        Close(x.Select(v => v * (v > 0 ? -1.0 / 16 : v < 0 ? -0.5 / 16 : 0)), plain1.Attributions!);
        var guided0 = Run(model, x, "guided-backprop", new Target.Class(0));
        Close(x.Select(v => v > 0 ? 1.0 / 16 : v < 0 ? -2.0 / 16 : 0), guided0.Attributions!);
    }

    /// <summary>
    /// Guided Grad-CAM of class 1 at the ReLU: α = (−1/16, 0.5/16), so the Grad-CAM map is relu(−relu(x) + 0.5·relu(−x)) ÷ 16 =
    /// 0.5|x|/16 where x &lt; 0; at the input's own resolution nearest upsampling changes nothing; times guided backprop's −0.5/16.
    /// </summary>
    [Fact]
    public void Guided_grad_cam_is_guided_backprop_times_the_raw_grad_cam_map()
    {
        using var model = TinyModels.Build(inPlaceRelu: true);
        var x = TinyModels.X;
        var result = Run(model, x, "guided-grad-cam", new Target.Class(1), layer: "features.1");
        Close(x.Select(v => v < 0 ? 0.5 * -v / 16 : 0), result.LowRes!);
        Assert.Equal([4, 4], result.LowResShape!);
        Close(x.Select(v => v < 0 ? -0.5 / 16 * (0.5 * -v / 16) : 0), result.Attributions!, 1e-8);
    }

    [Fact]
    public void Gauss_legendre_nodes_and_weights_are_the_known_ones()
    {
        // n = 5: 0, ±√(5 − 2√(10/7)) / 3, ±√(5 + 2√(10/7)) / 3 with weights 128/225, (322 ± 13√70) / 900.
        var (nodes, weights) = IntegratedGradients.GaussLegendre(5);
        var a = Math.Sqrt(5 - 2 * Math.Sqrt(10.0 / 7)) / 3;
        var b = Math.Sqrt(5 + 2 * Math.Sqrt(10.0 / 7)) / 3;
        double[] expectedNodes = [-b, -a, 0, a, b];
        double[] expectedWeights = [(322 - 13 * Math.Sqrt(70)) / 900, (322 + 13 * Math.Sqrt(70)) / 900, 128.0 / 225, (322 + 13 * Math.Sqrt(70)) / 900, (322 - 13 * Math.Sqrt(70)) / 900];
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(expectedNodes[i], nodes[i], 14);
            Assert.Equal(expectedWeights[i], weights[i], 14);
        }
        // n points integrate every polynomial of degree 2n − 1 exactly: ∫₀¹ α^(2n−1) dα = 1 ÷ 2n.
        foreach (var n in new[] { 2, 33, 64, 1024 })
        {
            var (alphas, w) = IntegratedGradients.Rule("gausslegendre", n);
            Assert.Equal(1, w.Sum(), 12);
            Assert.Equal(1.0 / (2 * Math.Min(n, 8)), alphas.Zip(w, (t, v) => v * Math.Pow(t, 2 * Math.Min(n, 8) - 1)).Sum(), 12);
            Assert.All(alphas, t => Assert.InRange(t, 0, 1));
        }
    }

    [Fact]
    public void Riemann_rules_are_captums()
    {
        var (trapezoid, tw) = IntegratedGradients.Rule("riemann_trapezoid", 5);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], trapezoid);
        Assert.Equal([0.1, 0.2, 0.2, 0.2, 0.1], tw.Select(v => Math.Round(v, 12)));
        Assert.Equal([0, 0.25, 0.5, 0.75], IntegratedGradients.Rule("riemann_left", 4).Alphas);
        Assert.Equal([0.25, 0.5, 0.75, 1], IntegratedGradients.Rule("riemann_right", 4).Alphas);
        Assert.Equal([0.125, 0.375, 0.625, 0.875], IntegratedGradients.Rule("riemann_middle", 4).Alphas);
    }
}
