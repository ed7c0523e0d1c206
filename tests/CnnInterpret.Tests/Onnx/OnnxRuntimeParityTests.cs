using CnnInterpret.Core.Onnx;
using CnnInterpret.Tests.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Onnx;

/// <summary>
/// ONNX Runtime is the oracle: the built-in resnet18-imagenet (ResNetPreprocess.onnx then ResNet18.onnx,
/// imported onto TorchSharp) must give ORT's outputs on real photos, the final features and intermediate
/// values alike (ORT returns those once they are added as graph outputs). ORT runs with graph optimisations
/// off, so each value is the node's own result (no fused Conv+BatchNorm).
/// </summary>
public sealed class OnnxRuntimeParityTests(ITestOutputHelper output)
{
    /// <summary>Largest difference allowed, relative to the largest magnitude of the value compared.</summary>
    private const double Tolerance = 1e-4;

    [Fact]
    public void Resnet18_matches_onnx_runtime_on_real_photos()
    {
        var entry = OnnxModels.Registry.GetEntry("resnet18-imagenet");
        var source = entry.Onnx!;
        var networkPath = OnnxFiles.Resolve(source.Network, source.Package, Repo.Models, entry.Id);
        var preprocessPath = OnnxFiles.Resolve(source.Preprocess!, source.Package, Repo.Models, entry.Id);
        var network = OnnxParser.ReadModelFile(networkPath).Graph;

        // The first conv, the max-pool, every residual Add, the last ReLU and the final pool.
        var checkedNodes = network.Nodes.Where((n, i) => i == 0 || n.OpType is "MaxPool" or "Add" || i >= network.Nodes.Count - 2).ToList();
        var model = OnnxModels.Registry.Get("resnet18-imagenet");
        var layers = checkedNodes.Select(n => n.Name).Append("PreprocessedInput").ToHashSet();
        Assert.All(layers, l => model.GetLayer(l));

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var preprocess = new InferenceSession(preprocessPath, options);
        var extra = checkedNodes.Select(n => n.Outputs[0]).Where(o => network.Outputs.All(x => x.Name != o)).ToArray();
        using var session = new InferenceSession(OnnxBuilder.WithOutputs(File.ReadAllBytes(networkPath), extra), options);
        var networkInput = network.RealInputs().Single().Name;

        var photos = Photos.All();
        Assert.True(photos.Count >= 3, "expected the sample photos in models/samples/photos");
        var worst = new Dictionary<string, (double Abs, double Relative)>();
        foreach (var photo in photos)
        {
            var pixels = Photos.Prepare(photo, model.Input);
            var original = new DenseTensor<float>(pixels, [1, 3, 224, 224]);
            using var pre = preprocess.Run([NamedOnnxValue.CreateFromTensor(preprocess.InputMetadata.Keys.Single(), original)]);
            var preprocessed = pre.Single().AsTensor<float>().ToDenseTensor();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(networkInput, preprocessed)], checkedNodes.Select(n => n.Outputs[0]).ToArray());
            var reference = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
            reference["PreprocessedInput"] = preprocessed.ToArray();

            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (logits, captured) = model.Forward(tensor(pixels, [1, 3, 224, 224]), layers);
            foreach (var layer in layers)
            {
                var expected = reference[layer == "PreprocessedInput" ? layer : checkedNodes.Single(n => n.Name == layer).Outputs[0]];
                var actual = captured[layer].contiguous().data<float>().ToArray();
                Assert.Equal(expected.Length, actual.Length);
                var abs = expected.Zip(actual, (e, a) => Math.Abs(e - (double)a)).Max();
                var scale = expected.Max(e => Math.Abs((double)e));
                var (worstAbs, worstRelative) = worst.GetValueOrDefault(layer);
                worst[layer] = (Math.Max(worstAbs, abs), Math.Max(worstRelative, abs / scale));
            }
            // The final features: within 1e-4 absolutely too.
            Assert.Equal(reference[checkedNodes[^1].Outputs[0]], logits.contiguous().data<float>().ToArray(), (e, a) => Math.Abs(e - a) <= 1e-4);
        }
        output.WriteLine($"{photos.Count} photos; max |ours − ORT| per value (absolute, and relative to the value's largest magnitude):");
        foreach (var layer in checkedNodes.Select(n => n.Name).Prepend("PreprocessedInput"))
            output.WriteLine($"{layer,-22} {worst[layer].Abs,10:E2} {worst[layer].Relative,10:E2}");
        Assert.All(worst, w => Assert.True(w.Value.Relative <= Tolerance, $"{w.Key}: relative difference {w.Value.Relative:E2}"));
    }
}
