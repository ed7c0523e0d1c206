using System.Collections.Concurrent;
using System.Security.Cryptography;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Models;

/// <summary>
/// The built-in models of <c>models/models.json</c>. Each model is built and its weights checked
/// (sha256) and loaded once, on first use, then shared by every request.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<CnnModel>> _loaded = new();

    public ModelRegistry(string? modelsDirectory = null)
    {
        ModelsDirectory = modelsDirectory ?? FindModelsDirectory();
        Manifest = ModelManifest.Load(Path.Combine(ModelsDirectory, "models.json"));
    }

    public const string DefaultModelId = "fashion-vgg";

    public string ModelsDirectory { get; }
    public ModelManifest Manifest { get; }

    public ModelEntry GetEntry(string id) =>
        Manifest.Models.FirstOrDefault(m => m.Id == id)
        ?? throw new CnnInterpretException(ErrorKind.UnknownModel,
            $"Unknown model '{id}'. Built-in models: {string.Join(", ", Manifest.Models.Select(m => m.Id))}.",
            new { models = Manifest.Models.Select(m => m.Id).ToArray() });

    public bool IsLoaded(string id) => _loaded.TryGetValue(id, out var lazy) && lazy.IsValueCreated;

    public CnnModel Get(string id)
    {
        var entry = GetEntry(id);
        var lazy = _loaded.GetOrAdd(id, _ => new Lazy<CnnModel>(() => Build(entry)));
        try { return lazy.Value; }
        catch
        {
            _loaded.TryRemove(id, out _); // a failed load (say a missing file) may succeed once the user fixes it
            throw;
        }
    }

    /// <summary>Builds a model with the given entry's architecture and random weights (for training).</summary>
    public static CnnModel BuildUntrained(ModelEntry entry) =>
        new(entry.Id, entry.DisplayName, entry.Input, entry.Classes, entry.Architecture.BuildLayers());

    private CnnModel Build(ModelEntry entry)
    {
        var model = BuildUntrained(entry);
        if (entry.Weights is null) return model;
        var path = Path.Combine(ModelsDirectory, entry.Weights.File);
        try
        {
            if (!File.Exists(path))
                throw new CnnInterpretException(ErrorKind.BadModelFile,
                    $"The weights of '{entry.Id}' are missing: '{path}' does not exist. Restore the models/ folder from the repository, or run 'cnn-interpret train-default'.");
            var hash = Sha256File(path);
            if (!string.Equals(hash, entry.Weights.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new CnnInterpretException(ErrorKind.BadModelFile,
                    $"The weights file '{path}' has sha256 {hash}, but models.json expects {entry.Weights.Sha256}. The file is damaged or out of date: restore it from the repository.");
            using var scope = NewDisposeScope();
            model.LoadWeights(SafeTensors.Load(path), hash, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// The models folder: <c>CNN_INTERPRET_MODELS_DIR</c>, else the copy beside the binaries (how the
    /// daemon ships), else the repository's <c>models/</c> found by walking up from the binaries.
    /// </summary>
    public static string FindModelsDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("CNN_INTERPRET_MODELS_DIR");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "models");
            if (File.Exists(Path.Combine(candidate, "models.json"))) return candidate;
        }
        throw new CnnInterpretException(ErrorKind.BadModelFile,
            "Cannot find the built-in models (models/models.json). Set CNN_INTERPRET_MODELS_DIR to the repository's models folder.");
    }

    public void Dispose()
    {
        foreach (var lazy in _loaded.Values.Where(l => l.IsValueCreated)) lazy.Value.Dispose();
        _loaded.Clear();
    }
}
