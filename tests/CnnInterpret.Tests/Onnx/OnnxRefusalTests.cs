using CnnInterpret.Core;
using CnnInterpret.Core.Onnx;
using CnnInterpret.Tests.Daemon;
using CnnInterpret.Tests.TestSupport;
using TorchSharp;
using static CnnInterpret.Tests.Onnx.OnnxBuilder;

namespace CnnInterpret.Tests.Onnx;

/// <summary>
/// Models the importer cannot take (an operator it does not support, an input that is not an image) fail with
/// an error that names the file and what to do, load nothing half-way, and leave the daemon serving.
/// </summary>
[Collection(SerialTorch.Name)] // counts live tensors
public sealed class OnnxRefusalTests
{
    /// <summary>A conv with weights, then an operator the importer does not have.</summary>
    private static byte[] WithUnsupportedOperator() => Model(13,
        [Node("Conv", ["x", "w"], ["c"], "/features/features.0/Conv"), Node("Hardmax", ["c"], ["y"], "/head/Hardmax")],
        [Tensor("w", [2, 3, 1, 1], [1, 2, 3, 4, 5, 6])],
        [ValueInfo("x", 1, 3, 4, 4)], [ValueInfo("y")]);

    /// <summary>A valid graph whose input is a vector, not an image.</summary>
    private static byte[] WithVectorInput() => Model(13,
        [Node("Gemm", ["x", "w"], ["y"], "fc", Int("transB", 1))],
        [Tensor("w", [2, 3], [1, 2, 3, 4, 5, 6])],
        [ValueInfo("x", 1, 3)], [ValueInfo("y")]);

    [Fact]
    public void A_refused_operator_names_itself_says_how_to_re_export_and_leaves_no_tensors()
    {
        var bytes = WithUnsupportedOperator();
        Assert.Throws<CnnInterpretException>(() => new OnnxGraph(OnnxParser.ReadModel(bytes, "m.onnx"))); // warm up torch
        GC.Collect(); // other tests' undisposed tensors die in finalizers: flush them before counting
        GC.WaitForPendingFinalizers();
        var before = torch.Tensor.TotalCount;
        for (var i = 0; i < 3; i++)
        {
            var e = Assert.Throws<CnnInterpretException>(() => new OnnxGraph(OnnxParser.ReadModel(bytes, "m.onnx")));
            Assert.Equal(ErrorKind.BadModelFile, e.Kind);
            Assert.Contains("Hardmax node '/head/Hardmax' uses operator 'Hardmax', which is not supported", e.Message);
            Assert.Contains("Re-export the model without 'Hardmax'", e.Message);
        }
        Assert.Equal(before, torch.Tensor.TotalCount);
    }

    [Fact]
    public async Task The_daemon_refuses_such_files_by_name_and_keeps_serving()
    {
        var dir = Repo.TempDir();
        var unsupported = Path.Combine(dir, "hardmax.onnx");
        var vector = Path.Combine(dir, "vector.onnx");
        File.WriteAllBytes(unsupported, WithUnsupportedOperator());
        File.WriteAllBytes(vector, WithVectorInput());
        await using var daemon = new DaemonProcess();

        var (code, message, _) = await daemon.ErrorAsync("models/load", new { model = unsupported });
        Assert.Equal((int)ErrorKind.BadModelFile, code);
        Assert.Contains(unsupported, message);
        Assert.Contains("operator 'Hardmax'", message);
        Assert.Contains("Re-export the model without 'Hardmax'", message);

        (code, message, _) = await daemon.ErrorAsync("models/load", new { model = vector });
        Assert.Equal((int)ErrorKind.BadModelFile, code);
        Assert.Contains(vector, message);
        Assert.Contains("image", message); // "an image model takes one input [N, 1 or 3, H, W]"

        // Still serving: the same file fails the same way (nothing cached half-loaded), and a good model loads.
        (code, _, _) = await daemon.ErrorAsync("models/load", new { model = unsupported });
        Assert.Equal((int)ErrorKind.BadModelFile, code);
        var list = await daemon.ResultAsync("models/list");
        Assert.True(list.GetProperty("models").GetArrayLength() > 0);
        var loaded = await daemon.ResultAsync("models/load", new { model = "fashion-vgg" });
        Assert.Equal("fashion-vgg", loaded.GetProperty("id").GetString());
        Assert.Equal(0, await daemon.CloseAndWaitAsync());
    }
}
