using System.Text.Json;
using CnnInterpret.Core.Explainers;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.TestSupport;
using CnnInterpret.Tests.Torchvision;

namespace CnnInterpret.Tests.Parity;

/// <summary>
/// What pytorch-grad-cam and Captum computed on the seed-0 VGG16 for a fixed 112×112 input
/// (tests/fixtures/parity/make_gradcam_references.py, run by hand with the peers' own code; its outputs are committed
/// in tests/fixtures/parity/pytorch-grad-cam/).
/// </summary>
public static class PytorchGradCamReferences
{
    public static readonly string Folder = Path.Combine(Repo.Root, "tests", "fixtures", "parity", "pytorch-grad-cam");

    public static JsonElement Json { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "references.json"))).RootElement;

    public static int TargetClass => Json.GetProperty("target").GetInt32();

    /// <summary>[3,112,112]: the input both sides were given.</summary>
    public static int[] InputShape => Json.GetProperty("inputShape").EnumerateArray().Skip(1).Select(v => v.GetInt32()).ToArray();

    public static float[] Input => Read("input.npy");

    public static float[] Read(string file) => NpyReader.ReadFloats(Path.Combine(Folder, file)).Data;

    /// <summary>
    /// Null when the VGG16 test fixture holds the weights the references were made with; otherwise why not (the tests
    /// skip then: the arrays would have to be made again). Read from the fixture's json, which the checkpoint tests
    /// check against the file, so discovery hashes nothing.
    /// </summary>
    public static string? WeightsMismatch() => VggWeightsMismatch(Json, "tests/fixtures/parity/make_gradcam_references.py");

    /// <summary>
    /// Null when the VGG16 fixture here has the weights <paramref name="references"/> were made with; otherwise why not.
    /// Compared by what the weights compute (the fixture's logits for its fixed input, recorded with the references as
    /// <c>fixtureLogits</c>), not by the file's sha256: the legacy pickle format writes storage keys that differ between
    /// runs of the same seeded script, so every fresh machine's checkpoint has other bytes but the same numbers.
    /// </summary>
    public static string? VggWeightsMismatch(JsonElement references, string script)
    {
        var json = Path.Combine(TorchvisionFixtures.Directory, "vgg16.json");
        if (!File.Exists(json)) return null; // the test itself then fails, saying how to make the fixture
        var fixture = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("logits").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var expected = references.GetProperty("fixtureLogits").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var same = expected.Length > 0 && expected.Select((e, i) => Math.Abs(e - fixture[i]) <= 1e-6 * Math.Max(1, Math.Abs(e))).All(x => x);
        return same ? null
            : $"The VGG16 test fixture computes other logits ({fixture[0]:G6}, …) than the one the references were made with ({expected[0]:G6}, …): run {script} again (see its header).";
    }

    private static readonly Lazy<(ModelRegistry Registry, CnnModel Model)> Vgg = new(() =>
    {
        var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        return (registry, registry.Get(TorchvisionFixtures.Get("vgg16").Path));
    });

    /// <summary>The seed-0 VGG16, loaded once for all parity tests.</summary>
    public static CnnModel Vgg16 => Vgg.Value.Model;

    /// <summary>A context for VGG16 on the reference input, for class <see cref="TargetClass"/>.</summary>
    public static ExplainContext Context(IExplainer explainer, string? layer, IReadOnlyDictionary<string, string?>? options = null) =>
        new(Vgg16, Input, new Target.Class(TargetClass), layer is null ? null : Vgg16.GetLayer(layer),
            ExplainerOptions.Parse(explainer.Info, options ?? new Dictionary<string, string?>()), inputShape: InputShape);

    /// <summary>max |expected − actual| ÷ max |expected|.</summary>
    public static double RelativeDifference(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        Assert.True(scale > 0, "the reference is all zeros: it would check nothing");
        return expected.Zip(actual, (e, a) => (double)Math.Abs(e - a)).Max() / scale;
    }
}

/// <summary>A test on the seed-0 VGG16 references: skipped, with the reason, when the fixture's weights are not theirs.</summary>
public sealed class VggReferenceFactAttribute : FactAttribute
{
    public VggReferenceFactAttribute()
    {
        if (PytorchGradCamReferences.WeightsMismatch() is { } why) Skip = why;
    }
}

/// <inheritdoc cref="VggReferenceFactAttribute"/>
public sealed class VggReferenceTheoryAttribute : TheoryAttribute
{
    public VggReferenceTheoryAttribute()
    {
        if (PytorchGradCamReferences.WeightsMismatch() is { } why) Skip = why;
    }
}
