using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Tests.TestSupport;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.GradCam;

/// <summary>Grad-CAM and Grad-CAM++ on <see cref="TinyModels"/>, against values worked out by hand.</summary>
public sealed class GradCamTinyNetworkTests
{
    private static readonly float[] X = TinyModels.X;

    /// <summary>
    /// At the ReLU (R_0 = relu(x), R_1 = relu(−x)): ∂logit_c/∂R_k = W[c,k]/16 everywhere, so α_k = W[c,k]/16 and
    /// map = relu(Σ_k α_k R_k).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Grad_cam_at_the_relu_matches_the_hand_computed_map(int target)
    {
        using var model = TinyModels.Build(inPlaceRelu: false);
        var engine = new Engine(Repo.Registry);
        var result = engine.GradCam(model, TinyModels.WritePicture(Repo.TempDir()), "features.1", new Target.Class(target));

        float w0 = TinyModels.W[target, 0], w1 = TinyModels.W[target, 1];
        Assert.Equal([w0 / 16, w1 / 16], result.Weights, new Close(1e-6));
        var expected = X.Select(x => Math.Max(0, w0 / 16 * Math.Max(0, x) + w1 / 16 * Math.Max(0, -x))).ToArray();
        Assert.Equal(expected, result.LowRes, new Close(1e-5));
        Assert.Equal([4, 4], result.LowResShape);
        // Same resolution as the input: the upsampled map is the normalised one.
        var max = expected.Max();
        Assert.Equal(expected.Select(v => v / (max + 1e-7f)), result.Heatmap, new Close(1e-5));
        // logit_c = Σ_k W[c,k]·mean(R_k): mean(relu(x)) = 45/16, mean(relu(−x)) = 21/16.
        Assert.Equal(w0 * 45 / 16 + w1 * 21 / 16, result.Score, 4);
    }

    /// <summary>
    /// At the conv (pre-ReLU A_0 = x, A_1 = −x) the ReLU gates the gradient: ∂logit_c/∂A_k = W[c,k]/16 where A_k > 0.
    /// x has 9 positive and 6 negative entries, so α = (W[c,0]·9/256, W[c,1]·6/256); for class 0, α = (9, 12)/256
    /// and map = relu(−3x/256).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Grad_cam_at_a_conv_sees_its_output_before_the_relu_even_when_the_relu_works_in_place(bool inPlace)
    {
        using var model = TinyModels.Build(inPlace);
        var engine = new Engine(Repo.Registry);
        var picture = TinyModels.WritePicture(Repo.TempDir());

        // The captured conv output keeps its negative values: the ReLU (in place or not) ran on a copy.
        var activations = engine.Activations(model, picture);
        Assert.Equal(X, activations.Layers["features.0"].Data.Take(16), new Close(1e-5));
        Assert.Equal(X.Select(x => -x), activations.Layers["features.0"].Data.Skip(16), new Close(1e-5));
        Assert.Equal(X.Select(x => Math.Max(0, x)), activations.Layers["features.1"].Data.Take(16), new Close(1e-5));

        // Both paths: from the cached layer output (this engine has the image now) and from a fresh full forward.
        foreach (var e in new[] { engine, new Engine(Repo.Registry) })
        {
            var result = e.GradCam(model, picture, "features.0", new Target.Class(0));
            Assert.Equal([9f / 256, 12f / 256], result.Weights, new Close(1e-6));
            Assert.Equal(X.Select(x => Math.Max(0, -3 * x / 256)), result.LowRes, new Close(1e-6));
        }
    }

    /// <summary>
    /// Grad-CAM++ at the ReLU: g = W[c,k]/16 is constant per channel, Σ_ab R_k = 45 (k = 0) or 21 (k = 1), so
    /// a = g² / (2g² + S·g³) and α_k = Σ_ij relu(g)·a over the 16 positions (0 where g ≤ 0).
    /// </summary>
    [Fact]
    public void Grad_cam_plus_plus_at_the_relu_matches_the_hand_computed_weights()
    {
        using var model = TinyModels.Build(inPlaceRelu: false);
        var engine = new Engine(Repo.Registry);
        var result = engine.GradCam(model, TinyModels.WritePicture(Repo.TempDir()), "features.1", new Target.Class(1), "grad-cam++");

        static double Alpha(double g, double s) => g <= 0 ? 0 : 16 * g * (g * g / (2 * g * g + s * g * g * g + 1e-6));
        double a0 = Alpha(-1.0 / 16, 45), a1 = Alpha(0.5 / 16, 21);
        Assert.Equal("grad-cam++", result.Method);
        Assert.Equal([(float)a0, (float)a1], result.Weights, new Close(1e-6));
        Assert.Equal(X.Select(x => (float)Math.Max(0, a0 * Math.Max(0, x) + a1 * Math.Max(0, -x))), result.LowRes, new Close(1e-5));
    }

    /// <summary>The weights are linear in the score: a class whose logit is 2·logit_0 − 3·logit_1 gets 2·α(0) − 3·α(1).</summary>
    [Fact]
    public void Weights_are_linear_in_the_target_score()
    {
        var architecture = Core.Models.VggArchitecture.FromWidths(1, [3, 0, 4], avgPool: [2, 2], classifier: [5], numClasses: 3);
        manual_seed(7);
        using var model = new Core.Models.CnnModel("tiny-linear", "Tiny", new Core.Models.Preprocessing("gray", 8, [8, 8], [0.5f], [0.25f]),
            ["a", "b", "c"], architecture.BuildLayers());
        using (no_grad())
        {
            var last = model.StateDict();
            var w = last["classifier.3.weight"];
            var b = last["classifier.3.bias"];
            w[2].copy_(2 * w[0] - 3 * w[1]);
            b[2].copy_(2 * b[0] - 3 * b[1]);
        }
        var picture = Path.Combine(Repo.TempDir(), "noise.png");
        using (var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(8, 8))
        {
            var random = new Random(3);
            for (var i = 0; i < 64; i++) image[i % 8, i / 8] = new SixLabors.ImageSharp.PixelFormats.L8((byte)random.Next(256));
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, picture);
        }
        var engine = new Engine(Repo.Registry);
        float[] Weights(int c, string layer) => engine.GradCam(model, picture, layer, new Target.Class(c)).Weights;
        foreach (var layer in new[] { "features.0", "features.3" })
        {
            var (w0, w1, w2) = (Weights(0, layer), Weights(1, layer), Weights(2, layer));
            Assert.Contains(w0, v => Math.Abs(v) > 1e-4); // not trivially zero
            Assert.Equal(w0.Zip(w1, (a, b) => 2 * a - 3 * b), w2, new Close(1e-5));
        }
    }

    /// <summary>Tolerance comparer for floats.</summary>
    internal sealed class Close(double tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
