using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.GradCam;
using CnnInterpret.Tests.Onnx;
using CnnInterpret.Tests.TestSupport;
using CnnInterpret.Tests.Torchvision;
using Xunit.Abstractions;
using static CnnInterpret.Tests.Gradients.GradientModels;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Tests.Gradients;

/// <summary>
/// Guided backprop changes how ReLUs pass gradients back for one request only: after a normal run, a refused target
/// or an exception inside the network, and while another request runs beside it, plain gradients are plain.
/// </summary>
public sealed class GuidedBackpropTests(ITestOutputHelper output)
{
    private static float[] Plain(CnnModel model, float[] x, int target = 1) => Run(model, x, "gradient-x-input", new Target.Class(target)).Attributions!;

    [Fact]
    public void Plain_gradients_are_unchanged_after_a_normal_run_a_bad_target_and_an_exception()
    {
        var tripwire = new Tripwire();
        using var model = TinyWithTripwire(tripwire);
        var x = TinyModels.X;
        var before = Plain(model, x);
        var guided = Run(model, x, "guided-backprop", new Target.Class(1)).Attributions!;
        Assert.NotEqual(before, guided); // the run was guided
        Assert.False(GuidedRelu.Active);
        Assert.Equal(before, Plain(model, x));

        // A target the network does not have: the score fails inside the guided forward.
        Assert.ThrowsAny<Exception>(() => Run(model, x, "guided-backprop", new Target.Class(5)));
        Assert.False(GuidedRelu.Active);
        Assert.Equal(before, Plain(model, x));

        // A layer that throws after the ReLU has run guided.
        tripwire.Armed = true;
        Assert.Throws<InvalidOperationException>(() => Run(model, x, "guided-backprop", new Target.Class(1)));
        Assert.Throws<InvalidOperationException>(() => Run(model, x, "guided-grad-cam", new Target.Class(1), layer: "features.1"));
        tripwire.Armed = false;
        Assert.False(GuidedRelu.Active);
        Assert.Equal(before, Plain(model, x));
        Assert.Equal(guided, Run(model, x, "guided-backprop", new Target.Class(1)).Attributions);
    }

    /// <summary>Another request on the same model while a guided one is in its forward pass gets plain gradients.</summary>
    [Fact]
    public async Task A_request_running_beside_a_guided_one_gets_plain_gradients()
    {
        using var model = TinyModels.Build(inPlaceRelu: false, id: "tiny-beside");
        var x = TinyModels.X;
        var plain = Plain(model, x);
        using var started = new ManualResetEventSlim();
        using var go = new ManualResetEventSlim();
        var other = Task.Run(() =>
        {
            started.Set();
            Assert.True(go.Wait(TimeSpan.FromSeconds(30)));
            return Plain(model, x);
        });
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
        using (var scope = GuidedRelu.Guide())
        {
            Assert.True(GuidedRelu.Active);
            go.Set();
            Assert.Equal(plain, await other);
            Assert.NotEqual(plain, Plain(model, x)); // this flow is guided
            Assert.True(scope.Applied > 0);
        }
        Assert.False(GuidedRelu.Active);
    }

    [Fact]
    public void A_model_without_relus_is_refused_with_the_reason()
    {
        using var model = WithoutRelu();
        var error = Assert.Throws<CnnInterpretException>(() => Run(model, X, "guided-backprop", new Target.Class(0)));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("runs no ReLU", error.Message);
        Assert.Contains("saliency", error.Message);
    }

    /// <summary>The ReLUs inside ResNet blocks (functional calls) are guided too: the guided gradient differs from the plain one.</summary>
    [Fact]
    public void Works_on_a_torchvision_resnet()
    {
        var photo = TorchvisionFixtures.GetPhoto("resnet18");
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var model = registry.Get(TorchvisionFixtures.Get("resnet18").Path);
        var (input, _) = NpyReader.ReadFloats(TorchvisionFixtures.PathOf(photo.Input));
        var target = new Target.Class(photo.Top5[0]);
        var plain = Run(model, input, "gradient-x-input", target).Attributions!;
        var guided = Run(model, input, "guided-backprop", target).Attributions!;
        int applied;
        using (var scope = GuidedRelu.Guide())
        using (NewDisposeScope())
        using (no_grad())
        {
            model.Forward(tensor(input, [1, 3, 224, 224]));
            applied = scope.Applied;
        }
        // The stem's ReLU module and two ReLUs per basic block (8 blocks).
        Assert.Equal(1 + 2 * 8, applied);
        Assert.NotEqual(plain, guided);
        output.WriteLine($"resnet18: {applied} ReLUs guided; {guided.Count(v => v != 0)} of {guided.Length} values non-zero");
    }

    [Fact]
    public void Works_on_an_onnx_model_and_guided_grad_cam_takes_its_layers()
    {
        var engine = OnnxModels.NewEngine();
        var dog = Path.Combine(Photos.Samples, "dog.jpg");
        var target = new Target.Channel("ReLU393", 90);
        var guided = engine.Attribute("resnet18-imagenet", dog, new AttributionRequest("guided-backprop", Target: target), render: false);
        var plain = engine.Attribute("resnet18-imagenet", dog, new AttributionRequest("saliency", Target: target), render: false);
        Assert.Equal([224, 224], guided.Shape);
        Assert.NotEqual(plain.Attribution.Attributions, guided.Attribution.Attributions!.Select(Math.Abs).ToArray());
        var cam = engine.Attribute("resnet18-imagenet", dog, new AttributionRequest("guided-grad-cam", Target: target), render: false);
        Assert.NotNull(cam.Layer);
        Assert.Equal(3 * 224 * 224, cam.Attribution.Attributions!.Length);
        output.WriteLine($"guided Grad-CAM at {cam.Layer!.Name}: {cam.Attribution.Map.Count(v => v != 0)} non-zero values");
    }

    /// <summary>TinyModels' network with a layer after the ReLU that throws while armed.</summary>
    private static CnnModel TinyWithTripwire(Tripwire tripwire)
    {
        var reference = TinyModels.Build(inPlaceRelu: false, id: "tiny-tripwire-weights");
        var state = reference.StateDict();
        var model = new CnnModel("tiny-tripwire", "Tiny tripwire", TinyModels.Input, ["a", "b"],
        [
            ("features.0", "block1_conv1", "Conv2d", "block1", Conv2d(1, 2, 3, padding: 1)),
            ("features.1", "block1_conv1_relu", "ReLU", "block1", ReLU()),
            ("features.2", "tripwire", "Identity", "block1", tripwire),
            ("avgpool", "avgpool", "AdaptiveAvgPool2d", "head", AdaptiveAvgPool2d([1, 1])),
            ("flatten", "flatten", "Flatten", "head", Flatten()),
            ("classifier.0", "predictions", "Linear", "classifier", Linear(2, 2)),
        ]);
        model.LoadWeights(state, "tiny", "TinyModels' weights");
        reference.Dispose();
        return model;
    }

    private sealed class Tripwire() : Module<Tensor, Tensor>("Tripwire")
    {
        public bool Armed { get; set; }

        public override Tensor forward(Tensor input) => Armed ? throw new InvalidOperationException("tripwire") : input;
    }
}
