using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using CnnInterpret.Core.Models.Checkpoints;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Models;

/// <summary>Whether a model can run now: weights shipped in the repository, fetched into the cache, or missing.</summary>
public enum ModelState
{
    BuiltIn,
    Ready,
    WeightsMissing,
}

/// <summary>
/// The built-in models of <c>models/models.json</c> and the model files a user opens. Each model is built,
/// its weights checked and loaded once, on first use, then shared by every request.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<CnnModel>> _loaded = new();
    private readonly ConcurrentDictionary<string, Func<CnnModel>> _files = new();

    public ModelRegistry(string? modelsDirectory = null, string? cacheDirectory = null)
    {
        ModelsDirectory = modelsDirectory ?? FindModelsDirectory();
        Manifest = ModelManifest.Load(Path.Combine(ModelsDirectory, "models.json"));
        WeightsDirectory = CacheDirectories.Weights(cacheDirectory);
        FilterPatternsDirectory = CacheDirectories.FilterPatterns(cacheDirectory);
    }

    public const string DefaultModelId = "fashion-vgg";

    public string ModelsDirectory { get; }
    public ModelManifest Manifest { get; }

    /// <summary>Where fetched weights are kept (the cache folder's <c>weights/</c>).</summary>
    public string WeightsDirectory { get; }

    /// <summary>Where computed filter patterns are kept: the same cache folder as the weights (--cache-dir included).</summary>
    public string FilterPatternsDirectory { get; }

    public ModelEntry GetEntry(string id) =>
        Manifest.Models.FirstOrDefault(m => m.Id == id)
        ?? throw new CnnInterpretException(ErrorKind.UnknownModel,
            $"Unknown model '{id}'. Built-in models: {string.Join(", ", Manifest.Models.Select(m => m.Id))}; or give the path of a model file (.pth, .pt, .safetensors, .onnx).",
            new { models = Manifest.Models.Select(m => m.Id).ToArray() });

    public bool IsLoaded(string id) => _loaded.TryGetValue(id, out var lazy) && lazy.IsValueCreated;

    /// <summary>The ids of the models in memory now, private copies included.</summary>
    public IReadOnlyList<string> LoadedIds => [.. _loaded.Where(kv => kv.Value.IsValueCreated).Select(kv => kv.Key).Order()];

    public ModelState State(ModelEntry entry) =>
        entry.Download is null ? ModelState.BuiltIn
        : File.Exists(FetchedWeightsPath(entry)) ? ModelState.Ready
        : ModelState.WeightsMissing;

    public string FetchedWeightsPath(ModelEntry entry) => Path.Combine(WeightsDirectory, entry.Download!.FileName);

    /// <summary>A built-in model by id, a model file registered with <see cref="Register"/>, or a model file by path.</summary>
    public CnnModel Get(string id)
    {
        var lazy = _loaded.GetOrAdd(id, key => new Lazy<CnnModel>(() => Build(key)));
        try { return lazy.Value; }
        catch
        {
            _loaded.TryRemove(id, out _); // a failed load (say a missing file) may succeed once the user fixes it
            throw;
        }
    }

    /// <summary>
    /// Makes a model from files available under an id and returns it: a built-in architecture with other weights
    /// (<paramref name="model"/> "vgg16", <paramref name="weights"/> FILE), or a checkpoint/ONNX file
    /// (<paramref name="model"/> FILE, with <paramref name="arch"/> when it cannot be inferred).
    /// </summary>
    public CnnModel Register(string model, string? weights = null, string? arch = null)
    {
        if (weights is null && arch is null) return Get(model);
        var id = weights is not null ? $"{model}@{Path.GetFullPath(weights)}" : $"{Path.GetFullPath(model)}#{arch}";
        _files[id] = weights is null ? () => FromFile(Path.GetFullPath(model), arch, id)
            : GetEntry(model) is { Architecture: not null } own ? () => AsBuiltInArchitecture(own, Path.GetFullPath(weights), id)
            : () => FromCheckpoint(id, GetEntry(model).Arch ?? model, Path.GetFullPath(weights), GetEntry(model));
        return Get(id);
    }

    /// <summary>
    /// A new instance of a model under another id, served by <see cref="Get"/> until the returned handle is
    /// disposed: for changing its weights without touching the shared one, as the sanity check does.
    /// </summary>
    public (CnnModel Model, IDisposable Lease) BuildPrivateCopy(string id, string copyId)
    {
        var model = Build(id);
        model.Id = copyId;
        _loaded[copyId] = new Lazy<CnnModel>(model);
        return (model, new Lease(() =>
        {
            _loaded.TryRemove(copyId, out _);
            model.Dispose();
        }));
    }

    private sealed class Lease(Action release) : IDisposable
    {
        private Action? _release = release;
        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }

    /// <summary>Builds a model with the given entry's VGG architecture and random weights (for training).</summary>
    public static CnnModel BuildUntrained(ModelEntry entry) =>
        new(entry.Id, entry.DisplayName, entry.Input, entry.Classes,
            (entry.Architecture ?? throw new CnnInterpretException(ErrorKind.BadModelFile, $"Model '{entry.Id}' has no VGG architecture in models.json.")).BuildLayers());

    private CnnModel Build(string id)
    {
        if (_files.TryGetValue(id, out var fromFile)) return fromFile();
        if (Manifest.Models.All(m => m.Id != id) && File.Exists(id)) return FromFile(Path.GetFullPath(id), null, id);
        var entry = GetEntry(id);
        if (entry.Onnx is not null) return Onnx.OnnxModelFactory.Create(entry, ModelsDirectory);
        if (entry.Arch is not null && entry.Download is not null)
        {
            var path = FetchedWeightsPath(entry);
            if (!File.Exists(path))
                throw new CnnInterpretException(ErrorKind.WeightsMissing,
                    $"The weights of '{entry.Id}' are not on this machine. Fetch them with 'cnn-interpret models fetch {entry.Id}' " +
                    $"({entry.Download.Url}), or, if you downloaded {entry.Download.FileName} elsewhere, add it with 'cnn-interpret models add {entry.Id} FILE'.",
                    new { model = entry.Id, url = entry.Download.Url, file = entry.Download.FileName });
            // Verified when fetched or added: the full hash when models.json knows it, else the file name's prefix.
            return FromCheckpoint(entry.Id, entry.Arch, path, entry, entry.Download.Sha256 ?? WeightsFetcher.HashPrefix(entry.Download.FileName));
        }
        var model = BuildUntrained(entry);
        if (entry.Weights is null) return model;
        var weightsPath = Path.Combine(ModelsDirectory, entry.Weights.File);
        try
        {
            if (!File.Exists(weightsPath))
                throw new CnnInterpretException(ErrorKind.BadModelFile,
                    $"The weights of '{entry.Id}' are missing: '{weightsPath}' does not exist. Restore the models/ folder from the repository, or run 'cnn-interpret train-default'.");
            var hash = Sha256File(weightsPath);
            if (!string.Equals(hash, entry.Weights.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new CnnInterpretException(ErrorKind.BadModelFile,
                    $"The weights file '{weightsPath}' has sha256 {hash}, but models.json expects {entry.Weights.Sha256}. The file is damaged or out of date: restore it from the repository.");
            using var scope = NewDisposeScope();
            model.LoadWeights(SafeTensors.Load(weightsPath), hash, weightsPath);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A torchvision checkpoint (or safetensors) for a known architecture; classes from the entry, else ImageNet's when there are 1000.</summary>
    /// <param name="state">The file's state_dict when the caller has read it already (it stays the caller's).</param>
    private CnnModel FromCheckpoint(string id, string arch, string weightsPath, ModelEntry? entry = null, string? knownHash = null,
        Dictionary<string, Tensor>? state = null)
    {
        arch = TorchvisionArchitectures.Require(arch);
        using var scope = NewDisposeScope();
        state ??= LoadStateDict(weightsPath);
        var classCount = TorchvisionArchitectures.ClassCount(state, arch);
        var entryClasses = entry is null ? null : ClassesOf(entry);
        var classes = entryClasses is { Count: > 0 } && entryClasses.Count == classCount ? entryClasses
            : classCount == 1000 ? ImageNetClasses()
            : Enumerable.Range(0, classCount).Select(i => $"class {i}").ToList();
        var model = new CnnModel(id, entry?.DisplayName ?? $"{arch} ({Path.GetFileName(weightsPath)})",
            entry?.Input ?? TorchvisionArchitectures.ImageNet, classes, TorchvisionArchitectures.BuildLayers(arch, classCount));
        try
        {
            model.LoadWeights(state, knownHash ?? Sha256File(weightsPath), weightsPath);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private CnnModel FromFile(string path, string? arch, string id)
    {
        if (!File.Exists(path))
            throw new CnnInterpretException(ErrorKind.BadModelFile, $"The model file '{path}' does not exist.");
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".onnx")
        {
            try { return Onnx.OnnxModelFactory.Import(path, id: id); }
            catch (CnnInterpretException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
            {
                throw new CnnInterpretException(e.Kind, $"'{path}': {e.Message}", e.Details, e); // name the file the user opened
            }
        }
        var builtIns = Manifest.Models.Where(m => m.Architecture is not null).ToList();
        if (arch is not null && builtIns.FirstOrDefault(m => m.Id == arch) is { } named)
            return AsBuiltInArchitecture(named, path, id);
        if (arch is not null) return FromCheckpoint(id, arch, path);
        using var scope = NewDisposeScope();
        var state = LoadStateDict(path); // read once, whichever architecture it turns out to be
        if (TorchvisionArchitectures.Infer(state) is { } inferred) return FromCheckpoint(id, inferred, path, state: state);
        // Not torchvision's: perhaps weights for one of our own architectures (a retrained fashion-vgg, say).
        var hash = Sha256File(path);
        foreach (var entry in builtIns)
        {
            try { return WithWeights(entry, state, path, hash, id); }
            catch (CnnInterpretException) { } // not this one
        }
        var names = TorchvisionArchitectures.Names.Concat(builtIns.Select(m => m.Id)).ToList();
        throw new CnnInterpretException(ErrorKind.InvalidArgument,
            $"Cannot tell which architecture '{Path.GetFileName(path)}' is for. Name it (--arch in the CLI, 'arch' in models/load): one of {string.Join(", ", names)}.",
            new { architectures = names });
    }

    /// <summary>The weights in <paramref name="path"/> on a built-in model's architecture (its input, classes and layers).</summary>
    private CnnModel AsBuiltInArchitecture(ModelEntry entry, string path, string id)
    {
        using var scope = NewDisposeScope();
        return WithWeights(entry, LoadStateDict(path), path, Sha256File(path), id);
    }

    /// <summary>A built-in architecture with <paramref name="state"/> loaded; every key and shape is checked before anything is copied.</summary>
    private CnnModel WithWeights(ModelEntry entry, Dictionary<string, Tensor> state, string path, string hash, string id)
    {
        var model = new CnnModel(id, $"{entry.DisplayName} ({Path.GetFileName(path)})", entry.Input, ClassesOf(entry), entry.Architecture!.BuildLayers());
        try
        {
            model.LoadWeights(state, hash, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A state_dict from a PyTorch checkpoint (.pth/.pt/.bin, zip or legacy format) or a safetensors file.</summary>
    public static Dictionary<string, Tensor> LoadStateDict(string path) =>
        Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase) ? SafeTensors.Load(path) : TorchCheckpoint.Load(path);

    public IReadOnlyList<string> ClassesOf(ModelEntry entry) =>
        entry.ClassesFile is null ? entry.Classes
            : JsonSerializer.Deserialize<List<string>>(File.ReadAllText(Path.Combine(ModelsDirectory, entry.ClassesFile)))!;

    private List<string> ImageNetClasses() =>
        JsonSerializer.Deserialize<List<string>>(File.ReadAllText(Path.Combine(ModelsDirectory, "imagenet-classes.json")))!;

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
