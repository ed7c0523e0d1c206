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

/// <summary>One built-in model: its architecture, preprocessing, weights and classes.</summary>
public sealed record ModelEntry(
    string Id,
    string DisplayName,
    string Description,
    VggArchitecture Architecture,
    Preprocessing Input,
    WeightsFile? Weights,
    IReadOnlyList<string> Classes,
    ModelMetrics? Metrics = null);

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
