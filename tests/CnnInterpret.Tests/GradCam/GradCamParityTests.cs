using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.GradCam;

/// <summary>
/// Grad-CAM and Grad-CAM++ on the embedded fashion-vgg against the formula computed in plain PyTorch
/// (fixtures/make_gradcam_fixture.py, committed with its output; no Python at test time).
/// </summary>
public sealed class GradCamParityTests
{
    private static readonly string Fixtures = Path.Combine(Repo.Root, "tests", "CnnInterpret.Tests", "GradCam", "fixtures");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Fixture().GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static JsonElement Fixture() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "fixture.json"))).RootElement;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_the_formula_computed_in_pytorch(string name)
    {
        var fixture = Fixture();
        Assert.True(fixture.GetProperty("weightsSha256").GetString() == Repo.FashionVgg.WeightsHash,
            "The embedded weights changed since the fixture was made: run tests/CnnInterpret.Tests/GradCam/fixtures/make_gradcam_fixture.py.");
        var c = fixture.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var image = Path.Combine(Repo.Root, fixture.GetProperty("image").GetString()!);
        var (lowRes, lowShape) = NpyReader.ReadFloats(Path.Combine(Fixtures, $"{name}-lowres.npy"));
        var (heatmap, shape) = NpyReader.ReadFloats(Path.Combine(Fixtures, $"{name}.npy"));
        var (weights, _) = NpyReader.ReadFloats(Path.Combine(Fixtures, $"{name}-weights.npy"));

        var engine = new Engine(Repo.Registry);
        // First call: a full forward with gradients (cache miss); second: from the cached layer output.
        foreach (var pass in new[] { "miss", "hit" })
        {
            var result = engine.GradCam(ModelRegistry.DefaultModelId, image, c.GetProperty("layer").GetString()!, method: c.GetProperty("method").GetString());
            Assert.Equal(new Target.Class(c.GetProperty("target").GetInt32()), result.Target);
            Assert.Equal(c.GetProperty("score").GetSingle(), result.Score, 1e-4f);
            Assert.Equal(lowShape, result.LowResShape);
            Assert.Equal(shape, result.HeatmapShape);
            AssertClose(weights, result.Weights, 1e-4, $"{name} weights ({pass})");
            AssertClose(lowRes, result.LowRes, 1e-4, $"{name} low-resolution map ({pass})");
            AssertClose(heatmap, result.Heatmap, 1e-4, $"{name} map ({pass})");
            Assert.True(heatmap.Max() > 0.5f, "the fixture map is not trivial");
        }
    }

    /// <summary>|a − b| ≤ tolerance × max|a|, element by element.</summary>
    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(1e-12, expected.Max(Math.Abs));
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= tolerance * scale, $"{what}: largest difference {worst:E2} (allowed {tolerance * scale:E2})");
    }
}
