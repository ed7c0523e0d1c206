using CnnInterpret.Core.Explainers;
using CnnInterpret.Tests.TestSupport;
using Xunit.Abstractions;
using static CnnInterpret.Tests.Parity.PytorchGradCamReferences;

namespace CnnInterpret.Tests.Parity;

/// <summary>
/// Every CAM of the registry against pytorch-grad-cam's own classes on the seed-0 VGG16 (targets =
/// [ClassifierOutputTarget(k)], the map it returns: ReLU, min-max, cv2.resize to the input), within 1e-4 of the
/// reference's largest value; Captum's Occlusion likewise.
/// </summary>
[Collection(SerialTorch.Name)] // VGG16 is half a gigabyte and Score-CAM runs it 128 times
public sealed class CamParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in Json.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("method").GetString()!, c.GetProperty("layer").GetString()!);
        return data;
    }

    [VggReferenceTheory]
    [MemberData(nameof(Cases))]
    public void The_map_is_pytorch_grad_cams(string method, string layer)
    {
        var explainer = ExplainerRegistry.Default.Get(method);
        var context = Context(explainer, layer);
        var started = DateTime.UtcNow;
        var map = explainer.Explain(context).Map;
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        var expected = Read($"{method}-{layer}.npy");
        var difference = RelativeDifference(expected, map);
        output.WriteLine($"{method} at {layer}: max |ours − pytorch-grad-cam| ÷ max |theirs| = {difference:E2} (tolerance {Tolerance:E0}; {seconds:F2} s)");
        Assert.True(difference <= Tolerance, $"{method} at {layer}: {difference:E2}");
        Assert.True(expected.Max() > 0.5f, "the reference map is not empty");
    }

    [VggReferenceFact]
    public void Eigen_cams_sign_is_the_documented_one()
    {
        // The references say which sign LAPACK gave; either way the reference map is the one for our convention (the
        // component's loadings sum to ≥ 0). Check the convention itself on the projection pytorch-grad-cam computed:
        // the map correlates positively with the centred sum of the channels.
        foreach (var layer in new[] { "features.29", "features.22" })
        {
            var projection = Read($"eigen-cam-{layer}-projection.npy");
            var flipped = Json.GetProperty("eigenCam").GetProperty(layer).GetProperty("lapackSignFlipped").GetBoolean();
            var ours = projection.Select(v => flipped ? -v : v).ToArray();
            var sums = ChannelSums(layer);
            var mean = sums.Average();
            Assert.True(ours.Zip(sums, (p, s) => p * (s - mean)).Sum() > 0, $"at {layer} the map does not follow the channels' sum");
        }
    }

    private static float[] ChannelSums(string layer)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        var activations = Vgg16.ForwardTo(TorchSharp.torch.tensor(Input, [1, .. InputShape]), layer);
        return activations[0].sum([0]).flatten().data<float>().ToArray();
    }

    [VggReferenceFact]
    public void Occlusion_is_captums()
    {
        var settings = Json.GetProperty("occlusion");
        var explainer = ExplainerRegistry.Default.Get("occlusion");
        var context = Context(explainer, null, new Dictionary<string, string?>
        {
            ["window"] = settings.GetProperty("window").GetInt32().ToString(), ["stride"] = settings.GetProperty("stride").GetInt32().ToString(),
            ["fill"] = settings.GetProperty("fill").GetString(),
        });
        var started = DateTime.UtcNow;
        var attribution = explainer.Explain(context);
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        var expected = Read("occlusion.npy");
        var difference = RelativeDifference(expected, attribution.Attributions!);
        output.WriteLine($"occlusion: max |ours − Captum| ÷ max |theirs| = {difference:E2} (tolerance {Tolerance:E0}; {attribution.Figures["windows"]} windows, {seconds:F2} s)");
        Assert.True(difference <= Tolerance, $"occlusion: {difference:E2}");
        Assert.Equal(121, attribution.Figures["windows"]); // 11 positions a side, the last cut off at the edge
        var plane = expected.Length / 3;
        Assert.Equal(attribution.Attributions!.Take(plane).Select(v => 3 * v), attribution.Map, new Tolerant(1e-6));
    }

    private sealed class Tolerant(double tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x));
        public int GetHashCode(float obj) => 0;
    }
}
