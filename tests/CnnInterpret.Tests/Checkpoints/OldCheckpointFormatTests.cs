using System.Text;
using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using CnnInterpret.Core.Models.Checkpoints;
using CnnInterpret.Tests.TestSupport;
using CnnInterpret.Tests.Torchvision;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Checkpoints;

/// <summary>
/// Checkpoints in the formats of PyTorch 0.1–0.3 and Python 2 (torchvision's published weights are from 2017),
/// made by real PyTorch (tests/fixtures/make_torchvision_fixtures.py, via scripts/test-deps.sh), which
/// torch.load(weights_only=True) reads; and how weights that do not fit a model are reported.
/// </summary>
public sealed class OldCheckpointFormatTests
{
    private static JsonElement OldFormats()
    {
        var json = Path.Combine(TorchvisionFixtures.Directory, "old-formats.json");
        Assert.True(File.Exists(json), $"{json} is missing: scripts/test-deps.sh makes it with Debian's PyTorch (tests/fixtures/make_torchvision_fixtures.py)");
        return JsonDocument.Parse(File.ReadAllText(json)).RootElement;
    }

    private static CnnModel TinyModel(VggArchitecture architecture, int classes = 5) =>
        new("tiny", "Tiny", new Preprocessing("rgb", 32, [32, 32], [0, 0, 0], [1, 1, 1]),
            Enumerable.Range(0, classes).Select(i => $"c{i}").ToList(), architecture.BuildLayers());

    [Theory]
    [InlineData("rebuild_tensor")] // PyTorch 0.2–0.3: torch._utils._rebuild_tensor
    [InlineData("tensor_class")]   // PyTorch 0.1: torch.FloatTensor() + BUILD (storage, offset, size, stride)
    [InlineData("newobj")]         // the same through NEWOBJ
    [InlineData("python2")]        // OrderedDict([[k, v], …]), byte strings, torch.cuda.FloatStorage
    public void An_old_format_checkpoint_loads_and_the_network_matches_pytorch(string style)
    {
        var expected = OldFormats();
        var path = Path.Combine(TorchvisionFixtures.Directory, expected.GetProperty("files").GetProperty(style).GetString()!);
        var architecture = expected.GetProperty("architecture").Deserialize<VggArchitecture>(ModelManifest.JsonOptions)!;
        Assert.True(architecture.BatchNorm);
        using var model = TinyModel(architecture);
        using var scope = NewDisposeScope();
        var state = TorchCheckpoint.Load(path);
        Assert.Contains("features.1.running_var", state.Keys);
        Assert.DoesNotContain(state.Keys, k => k.EndsWith("num_batches_tracked", StringComparison.Ordinal)); // as before PyTorch 0.4.1
        Assert.Equal(ScalarType.Float32, state["features.0.weight"].dtype);
        model.LoadWeights(state, "fixture", path);

        using var _ = no_grad();
        var (logits, _) = model.Forward(linspace(-1, 1, 3 * 32 * 32).reshape(1, 3, 32, 32));
        var pytorch = expected.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var ours = logits[0].data<float>().ToArray();
        Assert.Equal(pytorch.Length, ours.Length);
        for (var i = 0; i < pytorch.Length; i++)
            Assert.True(Math.Abs(pytorch[i] - ours[i]) <= 1e-5, $"logit {i}: ours {ours[i]}, PyTorch {pytorch[i]}");
    }

    [Fact]
    public void A_tensor_class_given_a_storage_of_another_type_is_refused()
    {
        var dir = Repo.TempDir();
        var bytes = File.ReadAllBytes(Path.Combine(TorchvisionFixtures.Directory, OldFormats().GetProperty("files").GetProperty("tensor_class").GetString()!));
        // Same length, so the pickle stays well formed: a FloatTensor whose BUILD hands it a ShortStorage.
        var changed = Replace(bytes, "torch\nFloatStorage\n"u8.ToArray(), "torch\nShortStorage\n"u8.ToArray());
        Assert.NotNull(changed);
        var path = Path.Combine(dir, "mixed.pth");
        File.WriteAllBytes(path, changed!);
        var e = Assert.Throws<CnnInterpretException>(() => TorchCheckpoint.Load(path));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains("sets the state of an object", e.Message);
    }

    private static byte[]? Replace(byte[] bytes, byte[] from, byte[] to)
    {
        var at = bytes.AsSpan().IndexOf(from);
        if (at < 0) return null;
        var copy = bytes.ToArray();
        to.CopyTo(copy, at);
        return copy;
    }

    [Fact]
    public void Weights_for_another_architecture_list_every_mismatch_in_the_error_and_its_details()
    {
        var fixture = Path.Combine(Repo.Root, "tests", "CnnInterpret.Tests", "Checkpoints", "fixtures", "tiny-vgg_zip.pth");
        // tiny-vgg: convs 3→8→16, classifier 64→32→5. This model: batch norm (missing keys), 7 classes, hidden 24 (3 wrong shapes).
        var architecture = new VggArchitecture(3, JsonSerializer.Deserialize<List<JsonElement>>("[8, \"M\", 16, \"M\"]")!, [2, 2], [24], 7, BatchNorm: true);
        using var model = TinyModel(architecture, classes: 7);
        var before = model.StateDict()["classifier.0.weight"].data<float>().ToArray();
        using var scope = NewDisposeScope();
        var state = TorchCheckpoint.Load(fixture);
        var e = Assert.Throws<CnnInterpretException>(() => model.LoadWeights(state, "fixture", fixture));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains("Missing: features.1.weight", e.Message);
        Assert.Contains("'classifier.3.weight' has shape [5, 32], the model expects [7, 24]", e.Message);

        var details = JsonDocument.Parse(JsonSerializer.Serialize(e.Details)).RootElement;
        var missing = details.GetProperty("missing").EnumerateArray().Select(v => v.GetString()).ToList();
        // With batch norm the second conv is features.4 (the checkpoint's is features.3) and the norms are features.1 and .5.
        Assert.Equal(["features.1.bias", "features.1.num_batches_tracked", "features.1.running_mean", "features.1.running_var", "features.1.weight",
            "features.4.bias", "features.4.weight",
            "features.5.bias", "features.5.num_batches_tracked", "features.5.running_mean", "features.5.running_var", "features.5.weight"], missing.Order(StringComparer.Ordinal));
        Assert.Equal(["features.3.bias", "features.3.weight"], details.GetProperty("unexpected").EnumerateArray().Select(v => v.GetString()).Order(StringComparer.Ordinal));
        var mismatches = details.GetProperty("shapeMismatches").EnumerateArray()
            .Select(m => $"{m.GetProperty("Key").GetString()} {m.GetProperty("Checkpoint")} {m.GetProperty("Model")}").ToList();
        Assert.Equal(["classifier.0.weight [32,64] [24,64]", "classifier.0.bias [32] [24]", "classifier.3.weight [5,32] [7,24]", "classifier.3.bias [5] [7]"], mismatches);
        Assert.Equal(before, model.StateDict()["classifier.0.weight"].data<float>().ToArray()); // nothing was copied
    }

    [Fact]
    public void A_truncated_zip_checkpoint_says_it_may_be_truncated()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Repo.Root, "tests", "CnnInterpret.Tests", "Checkpoints", "fixtures", "tiny-vgg_zip.pth"));
        var path = Path.Combine(Repo.TempDir(), "cut.pth");
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<CnnInterpretException>(() => TorchCheckpoint.Load(path));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains("may be truncated", e.Message);
        Assert.DoesNotContain("..", e.Message.Replace(path, ""));
    }
}
