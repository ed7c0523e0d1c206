using System.Text.Json;
using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.TestSupport;
using Xunit.Abstractions;

namespace CnnInterpret.Tests.Torchvision;

/// <summary>
/// Models as users trained them, made by PyTorch (tests/fixtures/make_user_model_fixtures.py): a ResNet50 exported
/// without its normalisation, fine-tuned heads of other sizes, ONNX metadata, and Keras's VGG16 HDF5 layout. Each is
/// compared with the logits PyTorch computed for the same 224×224 picture with the preprocessing it was made for.
/// </summary>
[Collection(SerialTorch.Name)] // half-gigabyte VGG16s: one at a time
public sealed class UserModelTests(ITestOutputHelper output)
{
    private static string Dir => Path.Combine(TorchvisionFixtures.Directory, "user-models");
    private static string Picture => Path.Combine(Dir, "pattern-224.png");

    private static JsonElement Reference(string file)
    {
        var json = Path.Combine(Dir, "user-models.json");
        Assert.True(File.Exists(json), $"{json} is missing: scripts/test-deps.sh makes it with Debian's PyTorch (tests/fixtures/make_user_model_fixtures.py)");
        return JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty(file);
    }

    /// <summary>max |ours − PyTorch|, asserted within 1e-4 of the logits' scale (float32 sums over 25088 inputs differ in order).</summary>
    private float AssertLogits(string file, float[] ours)
    {
        var reference = Reference(file).GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(reference.Length, ours.Length);
        var scale = Math.Max(1, reference.Max(Math.Abs));
        var worst = ours.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{file}: max |ours − PyTorch| = {worst:G3} (logits up to {scale:G3})");
        Assert.True(worst <= 1e-4 * scale, $"{file}: max |ours − PyTorch| = {worst} (logits up to {scale})");
        Assert.Equal(Reference(file).GetProperty("top5").EnumerateArray().Select(v => v.GetInt32()),
            ours.Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(5).Select(p => p.i));
        return worst;
    }

    private static string LabelsFile(int count, string prefix)
    {
        var path = Path.Combine(Repo.TempDir(), "labels.txt");
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i => $"{prefix} {i}"));
        return path;
    }

    [Fact]
    public void A_resnet50_exported_without_normalisation_matches_pytorch_with_the_imagenet_preset_and_labels()
    {
        var onnx = Path.Combine(Dir, "resnet50-plain.onnx");
        var labels = LabelsFile(1000, "thing");
        using var engine = new Engine(new ModelRegistry(Repo.Models, Repo.TempDir()), ownsModels: true);
        var model = engine.Models.Register(onnx, settings: new ModelSettings(Preset: "imagenet", LabelsFile: labels));
        var prediction = engine.Predict(model.Id, Picture);
        AssertLogits("resnet50-plain.onnx", prediction.Logits);
        Assert.Equal($"thing {Reference("resnet50-plain.onnx").GetProperty("top5")[0].GetInt32()}", prediction.Top[0].Label);

        // Without the preset (the import's default: 0–1, no mean/std) the same file computes something else.
        var plain = engine.Models.Register(onnx);
        var unnormalised = engine.Predict(plain.Id, Picture).Logits;
        Assert.True(unnormalised.Zip(prediction.Logits, (a, b) => Math.Abs(a - b)).Max() > 0.1);
    }

    [Fact]
    public void The_cli_predicts_a_resnet50_with_a_sidecar_and_prints_the_labels_in_json()
    {
        // The model as a user has it: net.onnx (a link to the fixture) with net.onnx.json and labels.txt beside it.
        var dir = Repo.TempDir();
        var net = Path.Combine(dir, "net.onnx");
        File.CreateSymbolicLink(net, Path.Combine(Dir, "resnet50-plain.onnx"));
        File.Copy(LabelsFile(1000, "kind"), Path.Combine(dir, "labels.txt"));
        File.WriteAllText(net + ".json", """{ "preset": "imagenet", "labelsFile": "labels.txt" }""");
        var (code, stdout, stderr) = CliProcess.Run(["predict", "--model", net, "--json", "--top", "3", Picture]);
        Assert.True(code == 0, stderr);
        var result = JsonDocument.Parse(stdout).RootElement[0];
        var top5 = Reference("resnet50-plain.onnx").GetProperty("top5").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.Equal(top5.Take(3).Select(i => $"kind {i}"), result.GetProperty("top").EnumerateArray().Select(t => t.GetProperty("label").GetString()));
        AssertLogits("resnet50-plain.onnx", result.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.Equal("imagenet", result.GetProperty("preprocessing").GetProperty("preset").GetString());
        Assert.Equal(net + ".json", result.GetProperty("preprocessing").GetProperty("sources").GetProperty("mean").GetString());

        // A flag overrides the sidecar: --labels with the wrong count is refused, naming the file and the counts.
        var wrong = LabelsFile(999, "kind");
        (code, _, stderr) = CliProcess.Run(["predict", "--model", net, "--labels", wrong, Picture]);
        Assert.Equal(64, code);
        Assert.Contains($"'{wrong} (from flags)' has 999 labels, but model 'net' has 1000 outputs", stderr);
    }

    [Fact]
    public void A_resnet18_fine_tuned_to_5_classes_loads_its_head_from_the_file_and_takes_labels()
    {
        var pth = Path.Combine(Dir, "resnet18-5.pth");
        using var engine = new Engine(new ModelRegistry(Repo.Models, Repo.TempDir()), ownsModels: true);
        var unnamed = engine.Models.Register(pth);
        Assert.Equal(["class 0", "class 1", "class 2", "class 3", "class 4"], unnamed.Classes);
        Assert.Equal(256, unnamed.Input.Resize); // torchvision's ImageNet transform by default
        // PyTorch saw the 224×224 picture as it is: no resize to 256 first.
        var as224 = engine.Models.Register(pth, settings: new ModelSettings(Resize: 224));
        Assert.Equal("flags", as224.Origin.Sources["resize"]);
        AssertLogits("resnet18-5.pth", engine.Predict(as224.Id, Picture).Logits);

        string[] flowers = ["daisy", "dandelion", "rose", "sunflower", "tulip"];
        var named = engine.Models.Register(pth, settings: new ModelSettings(Resize: 224, Labels: flowers));
        Assert.Equal(flowers, named.Classes);
        Assert.Equal(flowers[Reference("resnet18-5.pth").GetProperty("top5")[0].GetInt32()], engine.Predict(named.Id, Picture).Top[0].Label);

        var e = Assert.Throws<CnnInterpretException>(() => engine.Models.Register(pth, settings: new ModelSettings(Labels: flowers[..4])));
        Assert.Contains("has 4 labels, but model 'resnet18 (resnet18-5.pth)' has 5 outputs", e.Message);
    }

    [Fact]
    public void An_onnx_file_whose_metadata_says_its_preset_and_labels_is_read_with_them()
    {
        using var engine = new Engine(new ModelRegistry(Repo.Models, Repo.TempDir()), ownsModels: true);
        var model = engine.Models.Register(Path.Combine(Dir, "resnet18-5.onnx"));
        Assert.Equal(["daisy", "dandelion", "rose", "sunflower", "tulip"], model.Classes);
        Assert.Equal("imagenet", model.Origin.Preset);
        Assert.Equal("resnet18-5.onnx metadata_props", model.Origin.Sources["labels"]);
        AssertLogits("resnet18-5.onnx", engine.Predict(model.Id, Picture).Logits);
    }

    [Fact]
    public void A_vgg16_with_a_37_way_head_loads_with_37_classes()
    {
        using var engine = new Engine(new ModelRegistry(Repo.Models, Repo.TempDir()), ownsModels: true);
        var model = engine.Models.Register(Path.Combine(Dir, "vgg16-37.pth"), settings: new ModelSettings(Resize: 224, LabelsFile: LabelsFile(37, "breed")));
        Assert.Equal(37, model.Classes.Count);
        Assert.Equal("breed 36", model.Classes[36]);
        AssertLogits("vgg16-37.pth", engine.Predict(model.Id, Picture).Logits);
    }

    [Fact]
    public void Keras_vgg16_weights_give_pytorchs_logits_with_kerass_preprocessing()
    {
        using var engine = new Engine(new ModelRegistry(Repo.Models, Repo.TempDir()), ownsModels: true);
        var model = engine.Models.Register("vgg16", weights: Path.Combine(Dir, "vgg16-keras.h5"));
        Assert.Equal("bgr", model.Input.Channels);
        Assert.Equal([123.68f / 255, 116.779f / 255, 103.939f / 255], model.Input.MeanRgb);
        Assert.Equal("tench", model.Classes[0]);
        var worst = AssertLogits("vgg16-keras.h5", engine.Predict(model.Id, Picture).Logits);
        output.WriteLine($"Keras VGG16 parity: max |ours − PyTorch| = {worst:G3}");
    }

    [Fact]
    public void An_hdf5_file_that_is_not_kerass_vgg16_is_refused_and_nothing_is_loaded()
    {
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var small = Path.Combine(Dir, "small-keras.h5");
        var e = Assert.Throws<CnnInterpretException>(() => registry.Register("vgg16", weights: small));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains($"'{small}' is not Keras's VGG16 weights: it has 2 convolution and 0 dense layers", e.Message);
        Assert.Contains("vgg16_weights_tf_dim_ordering_tf_kernels.h5", e.Message);

        var text = Path.Combine(Repo.TempDir(), "weights.h5");
        File.WriteAllText(text, "not an HDF5 file");
        e = Assert.Throws<CnnInterpretException>(() => registry.Register("vgg16", weights: text));
        Assert.Contains($"Cannot read '{text}' as Keras HDF5 weights", e.Message);

        e = Assert.Throws<CnnInterpretException>(() => registry.Register("resnet18-imagenet", weights: small));
        Assert.Contains("VGG16 only", e.Message);
        Assert.Empty(registry.LoadedIds);
    }
}
