using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Tests.TestSupport;
using TorchSharp;

namespace CnnInterpret.Tests.Lime;

[Collection(SerialTorch.Name)]
public sealed class SamplingLeakTests
{
    [Fact]
    public void Lime_and_shap_leave_no_live_tensors_behind_after_success_cancellation_or_bad_input()
    {
        var model = Repo.FashionVgg; // loading creates the parameters: do it before counting
        using var engine = Repo.NewEngine();
        var images = Directory.GetFiles(Repo.Samples, "*.png").Order().Take(3).ToList();
        void RunAll(string image)
        {
            engine.Lime(model.Id, image, new SamplingRequest(Samples: "100"));
            engine.KernelShap(model.Id, image, new SamplingRequest(Samples: "100"));
            engine.GradientShap(model.Id, image, new SamplingRequest(Samples: "20"));
            engine.GradientShap(model.Id, image, new SamplingRequest(Samples: "20", Layer: "features.7"));
            using var cancel = new CancellationTokenSource();
            var cut = engine.Lime(model.Id, image, new SamplingRequest(Samples: "5000", BatchSize: 64), new Cancel(cancel), cancel.Token);
            Assert.True(cut.Result.Cancelled);
            Assert.Throws<CnnInterpretException>(() => engine.GradientShap(model.Id, image, new SamplingRequest(Layer: "fc1")));
        }
        RunAll(images[0]);
        GC.Collect(); // other tests' undisposed tensors die in finalizers: flush them before counting
        GC.WaitForPendingFinalizers();
        var before = torch.Tensor.TotalCount;
        foreach (var image in images) RunAll(image);
        Assert.Equal(before, torch.Tensor.TotalCount);
    }

    private sealed class Cancel(CancellationTokenSource source) : IProgress<ExplainProgress>
    {
        public void Report(ExplainProgress value) => source.Cancel();
    }
}
