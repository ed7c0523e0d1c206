using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.TestSupport;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Tests.Parity;

/// <summary>
/// The sampling methods' contract (captum's <c>test_lime.py</c> habit): the same answer for every batch size, progress
/// per batch, cancellation between batches; and RISE by its statistics on a network whose score is linear in the input.
/// </summary>
[Collection(SerialTorch.Name)]
public sealed class PerturbationTests
{
    private static readonly string Image = Path.Combine(Repo.Samples, "ankle-boot-0.png");

    private static ExplainContext FashionContext(string method, Dictionary<string, string?>? options = null, int? batchSize = null,
        IProgress<ExplainProgress>? progress = null, CancellationToken cancellation = default)
    {
        var model = Repo.FashionVgg;
        var explainer = ExplainerRegistry.Default.Get(method);
        using var input = Repo.NewEngine().PrepareInput(model, Image);
        var layer = explainer.Info.NeedsLayer ? model.GetLayer("features.8") : null; // 32 channels: Score-CAM runs 32 forwards
        var context = new ExplainContext(model, input.Data, new Target.Class(9), layer,
            ExplainerOptions.Parse(explainer.Info, options ?? new Dictionary<string, string?>()), progress, cancellation: cancellation);
        return batchSize is { } b ? new ExplainContext(model, input.Data, new Target.Class(9), layer, context.Options, progress, cancellation: cancellation) { BatchSize = b } : context;
    }

    public static TheoryData<string, Dictionary<string, string?>> Sampling => new()
    {
        { "occlusion", new() { ["window"] = "6", ["stride"] = "4" } },
        { "rise", new() { ["masks"] = "150", ["seed"] = "3" } },
        { "score-cam", new() },
    };

    [Theory]
    [MemberData(nameof(Sampling))]
    public void The_answer_does_not_depend_on_the_batch_size(string method, Dictionary<string, string?> options)
    {
        var explainer = ExplainerRegistry.Default.Get(method);
        var maps = new[] { 1, 7, 64 }.Select(b => explainer.Explain(FashionContext(method, options, b)).Map).ToList();
        var scale = maps[0].Max(Math.Abs);
        Assert.True(scale > 0);
        foreach (var map in maps.Skip(1))
            Assert.True(map.Zip(maps[0], (a, b) => Math.Abs(a - b)).Max() <= 1e-5 * scale, $"{method}: batch sizes disagree");
    }

    [Theory]
    [MemberData(nameof(Sampling))]
    public void Progress_comes_per_batch_and_cancellation_stops_between_batches(string method, Dictionary<string, string?> options)
    {
        var explainer = ExplainerRegistry.Default.Get(method);
        var reports = new List<ExplainProgress>();
        explainer.Explain(FashionContext(method, options, batchSize: 8, progress: new Recorder(reports.Add)));
        var total = reports[^1].Total;
        Assert.Equal((total + 7) / 8 + 1, reports.Count); // one per batch, then "done"
        Assert.Equal(Enumerable.Range(0, reports.Count - 1).Select(i => i * 8), reports.SkipLast(1).Select(r => r.Done));
        Assert.Equal(total, reports[^1].Done);

        using var cancel = new CancellationTokenSource();
        var seen = 0;
        var context = FashionContext(method, options, batchSize: 8, progress: new Recorder(_ => { if (++seen == 2) cancel.Cancel(); }), cancellation: cancel.Token);
        Assert.ThrowsAny<OperationCanceledException>(() => explainer.Explain(context));
        Assert.Equal(2, seen); // the second batch ran, the third never started
    }

    [Fact]
    public void The_new_methods_and_road_leave_no_live_tensors_behind_after_success_cancellation_or_bad_input()
    {
        var model = Repo.FashionVgg; // loading creates the parameters: do it before counting
        using var engine = Repo.NewEngine();
        var images = Directory.GetFiles(Repo.Samples, "*.png").Order().Take(3).ToList();
        Dictionary<string, string?> Small(string method) => method switch
        {
            "rise" => new() { ["masks"] = "40" },
            "occlusion" => new() { ["window"] = "14", ["stride"] = "7" },
            _ => new(),
        };
        void RunAll(string image)
        {
            foreach (var method in new[] { "hires-cam", "xgrad-cam", "layer-cam", "eigen-cam", "score-cam", "occlusion", "rise" })
                engine.Attribute(model.Id, image, new AttributionRequest(method, Options: Small(method)));
            using var cancel = new CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() => engine.Attribute(model.Id, image, new AttributionRequest("rise"),
                progress: new Recorder(_ => cancel.Cancel()), cancellation: cancel.Token));
            Assert.Throws<CnnInterpretException>(() => engine.Attribute(model.Id, image, new AttributionRequest("score-cam", Layer: "fc1")));
            engine.Metrics(model.Id, image, new TrustRequest("eigen-cam"), steps: 4);
        }
        RunAll(images[0]);
        GC.Collect(); // other tests' undisposed tensors die in finalizers: flush them before counting
        GC.WaitForPendingFinalizers();
        var before = TorchSharp.torch.Tensor.TotalCount;
        foreach (var image in images) RunAll(image);
        Assert.Equal(before, TorchSharp.torch.Tensor.TotalCount);
    }

    [Fact]
    public void Rise_masks_are_the_same_however_they_are_drawn_in_batches()
    {
        using var scope = NewDisposeScope();
        var whole = new Rise.MaskSampler(4, 0.5, 10, 12, seed: 5).Next(9);
        var sampler = new Rise.MaskSampler(4, 0.5, 10, 12, seed: 5);
        var pieces = cat([sampler.Next(2), sampler.Next(3), sampler.Next(4)]);
        Assert.Equal([9, 1, 10, 12], whole.shape);
        Assert.True(whole.eq(pieces).all().item<bool>());
        Assert.InRange(whole.mean().item<float>(), 0.3f, 0.7f);
        Assert.True(whole.min().item<float>() >= 0 && whole.max().item<float>() <= 1);
    }

    /// <summary>
    /// A network whose score is linear in the input: a 1×1 conv (weight 1, bias b) with a channel target, so the score
    /// of the masked image I⊙M is Σ_y a_y M_y + b with a_y = I_y ÷ (H·W). RISE's map at x is then
    /// E[score · M_x] ÷ p = b + (1/p) Σ_y a_y E[M_x M_y], and with M = Σ_g c_g B_g (bilinear weights c of the grid's
    /// Bernoulli cells B, summing to 1), E[M_x M_y] = p² + p(1 − p) Σ_g c_g(x) c_g(y), averaged over the shifts. The
    /// weights c are found by upsampling one-hot grids, the same interpolation as the method's masks but none of its code.
    /// </summary>
    [Theory]
    [InlineData(8)] // one-pixel cells: the only shift is 0
    [InlineData(4)] // two-pixel cells: shifts 0 and 1 a side
    public void Rise_converges_to_its_closed_form_on_a_linear_network(int grid)
    {
        const int side = 8;
        const double p = 0.5, bias = 0.25;
        using var model = LinearModel(bias);
        var pixels = Enumerable.Range(0, side * side).Select(i => (float)Math.Sin(i * 0.7) + 1.2f).ToArray();
        var a = pixels.Select(v => (double)v / (side * side)).ToArray();
        var expected = ClosedForm(a, side, grid, p, bias);

        var rise = new Rise();
        const int seeds = 12, masks = 4000;
        var runs = Enumerable.Range(0, seeds).Select(seed => rise.Explain(new ExplainContext(model, pixels, new Target.Channel("features.0", 0), null,
            ExplainerOptions.Parse(rise.Info, new Dictionary<string, string?> { ["masks"] = $"{masks}", ["grid"] = $"{grid}", ["seed"] = $"{seed}", ["probability"] = "0.5" })))
            .Map).ToList();
        for (var x = 0; x < side * side; x++)
        {
            var values = runs.Select(r => (double)r[x]).ToList();
            var mean = values.Average();
            var standardError = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (seeds - 1) / seeds);
            Assert.True(Math.Abs(mean - expected[x]) <= 5 * standardError + 1e-6,
                $"pixel {x}: mean over {seeds} seeds {mean:F5}, closed form {expected[x]:F5}, standard error {standardError:E2}");
        }
        // And the map is not flat: the closed form varies more than the noise, so the test can tell maps apart.
        Assert.True(expected.Max() - expected.Min() > 0.01);
    }

    private static double[] ClosedForm(double[] a, int side, int grid, double p, double bias)
    {
        var cell = (side + grid - 1) / grid;
        var up = (grid + 1) * cell;
        var plane = side * side;
        var kernel = new double[plane, plane];
        var shifts = 0;
        using (NewDisposeScope())
        {
            // c_g over the upsampled canvas, for every cell g: [g, up, up].
            var c = nn.functional.interpolate(eye(grid * grid).reshape(grid * grid, 1, grid, grid), [up, up],
                mode: InterpolationMode.Bilinear, align_corners: false).reshape(grid * grid, up, up).to_type(ScalarType.Float64);
            for (var dy = 0; dy < cell; dy++)
                for (var dx = 0; dx < cell; dx++)
                {
                    var crop = c[.., dy..(dy + side), dx..(dx + side)].reshape(grid * grid, plane);
                    var k = crop.t().matmul(crop).data<double>().ToArray(); // Σ_g c_g(x) c_g(y)
                    for (var i = 0; i < plane; i++)
                        for (var j = 0; j < plane; j++) kernel[i, j] += k[i * plane + j];
                    shifts++;
                }
        }
        var sum = a.Sum();
        return Enumerable.Range(0, plane).Select(x =>
        {
            double correlated = 0;
            for (var y = 0; y < plane; y++) correlated += a[y] * kernel[x, y] / shifts;
            return bias + (p * p * sum + p * (1 - p) * correlated) / p;
        }).ToArray();
    }

    private static CnnModel LinearModel(double bias)
    {
        var layers = new List<(string, string, string, string, Module<Tensor, Tensor>)>
        {
            ("features.0", "conv", "Conv2d", "block1", Conv2d(1, 1, 1)),
            ("avgpool", "avgpool", "AdaptiveAvgPool2d", "head", AdaptiveAvgPool2d([1, 1])),
            ("flatten", "flatten", "Flatten", "head", Flatten()),
        };
        var model = new CnnModel("linear", "Linear", new Preprocessing("gray", 8, [8, 8], [0f], [1f]), [], layers);
        using var scope = NewDisposeScope();
        model.LoadWeights(new Dictionary<string, Tensor> { ["features.0.weight"] = ones(1, 1, 1, 1), ["features.0.bias"] = tensor(new[] { (float)bias }) },
            "linear", "hand-made weights");
        return model;
    }

    private sealed class Recorder(Action<ExplainProgress> report) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => report(value);
    }
}
