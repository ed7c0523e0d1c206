using System.Text.Json;
using System.Text.Json.Serialization;

namespace CnnInterpret.Core.Models;

/// <summary>The built-in models, as described by <c>models/models.json</c>.</summary>
public sealed record ModelManifest(IReadOnlyList<ModelEntry> Models)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static ModelManifest Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), JsonOptions)
                   ?? throw new JsonException("empty manifest");
        }
        catch (JsonException e)
        {
            throw new CnnInterpretException(ErrorKind.BadModelFile, $"The model manifest '{path}' is not valid: {e.Message}. Restore it from the repository.", inner: e);
        }
    }
}

/// <summary>
/// One built-in model: how to build it (exactly one of <see cref="Architecture"/> (a VGG described as data),
/// <see cref="Arch"/> (a torchvision architecture name such as "vgg16" or "resnet18") or <see cref="Onnx"/>),
/// its preprocessing, weights and classes (empty when the network has no classifier head).
/// </summary>
public sealed record ModelEntry(
    string Id,
    string DisplayName,
    string Description,
    VggArchitecture? Architecture,
    Preprocessing Input,
    WeightsFile? Weights,
    IReadOnlyList<string> Classes,
    ModelMetrics? Metrics = null,
    string? Arch = null,
    OnnxSource? Onnx = null,
    WeightsDownload? Download = null,
    string? ClassesFile = null);

/// <summary>An ONNX network (and optionally an ONNX preprocessing graph run before it), as files or from a NuGet package.</summary>
/// <param name="Network">The network's .onnx file name.</param>
/// <param name="Preprocess">An .onnx graph that turns the model input into the network's input, run as part of the model.</param>
/// <param name="Package">A NuGet package id whose content holds the files (resolved at build time), or null for files beside models.json.</param>
public sealed record OnnxSource(string Network, string? Preprocess = null, string? Package = null);

/// <summary>Where published weights come from (fetched on the user's machine), and how to check them.</summary>
/// <param name="Url">The published file, e.g. torchvision's download URL.</param>
/// <param name="FileName">The file name in the cache folder (torchvision's names start with the sha256's first hex digits).</param>
/// <param name="Sha256">The full sha256 when known (lower-case hex), else null.</param>
public sealed record WeightsDownload(string Url, string FileName, string? Sha256 = null, long? Bytes = null);

/// <summary>A weights file beside the manifest and its expected sha256 (lower-case hex).</summary>
public sealed record WeightsFile(string File, string Sha256);

/// <summary>Figures recorded when the weights were trained, for tests and the README.</summary>
public sealed record ModelMetrics(
    double TestAccuracy,
    int SubsetSize,
    double SubsetAccuracy,
    double TrainingSeconds,
    int Epochs,
    int Seed);
