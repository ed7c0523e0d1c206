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

public static class ModelStates
{
    /// <summary>The state as the protocol (<c>models/list</c>) and <c>models list</c> spell it.</summary>
    public static string Name(this ModelState state) => state switch
    {
        ModelState.BuiltIn => "built in",
        ModelState.Ready => "ready",
        _ => "weights missing",
    };
}

/// <summary>
/// The built-in models of <c>models/models.json</c> and the model files a user opens. Each model is built,
/// its weights checked and loaded once, on first use, then shared by every request.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<CnnModel>> _loaded = new();
    private readonly ConcurrentDictionary<string, Func<CnnModel>> _files = new();
    private readonly ConcurrentDictionary<string, long> _lastUsed = new(); // Environment.TickCount64 of each model's last Get
    private readonly ConcurrentQueue<CnnModel> _retired = new();
    private readonly ConcurrentDictionary<string, byte> _unloaded = new(); // ids unloaded since they last loaded, for the log
    private readonly object _retireGate = new();

    /// <summary>Where the registry says what it did on its own (unloading a model), for the daemon's log.</summary>
    public Action<string>? Log { get; set; }

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
            $"Unknown model '{InputText.Quote(id)}'. Built-in models: {string.Join(", ", Manifest.Models.Select(m => m.Id))}; or give the path of a model file (.pth, .pt, .safetensors, .onnx).",
            new { models = Manifest.Models.Select(m => m.Id).ToArray() });

    public bool IsLoaded(string id) => _loaded.TryGetValue(id, out var lazy) && lazy.IsValueCreated;

    /// <summary>The ids of the models in memory now.</summary>
    public IReadOnlyList<string> LoadedIds => [.. _loaded.Where(kv => kv.Value.IsValueCreated).Select(kv => kv.Key).Order()];

    public ModelState State(ModelEntry entry) =>
        entry.Download is null ? ModelState.BuiltIn
        : File.Exists(FetchedWeightsPath(entry)) ? ModelState.Ready
        : ModelState.WeightsMissing;

    public string FetchedWeightsPath(ModelEntry entry) => Path.Combine(WeightsDirectory, entry.Download!.FileName);

    /// <summary>A built-in model by id, a model file registered with <see cref="Register"/>, or a model file by path.</summary>
    public CnnModel Get(string id)
    {
        InputText.RequirePath(id, ErrorKind.UnknownModel, "model");
        var lazy = _loaded.GetOrAdd(id, key => new Lazy<CnnModel>(() => BuildAndGiveBack(key)));
        try
        {
            var created = lazy.IsValueCreated;
            var model = lazy.Value;
            _lastUsed[id] = Environment.TickCount64;
            if (created) return model;
            Log?.Invoke($"Loaded model '{InputText.Quote(id, 120)}' ({BytesOf(model) / 1e6:F0} MB of weights)" +
                        (_unloaded.TryRemove(id, out _) ? " again: it had been unloaded." : "."));
            RetireOverBudget(keep: id);
            return model;
        }
        catch
        {
            _loaded.TryRemove(id, out _); // a failed load (say a missing file) may succeed once the user fixes it
            throw;
        }
    }

    /// <summary>
    /// Makes a model from files available under an id and returns it: a built-in architecture with other weights
    /// (<paramref name="model"/> "vgg16", <paramref name="weights"/> FILE: a checkpoint, or Keras's VGG16 .h5), or a
    /// checkpoint/ONNX file (<paramref name="model"/> FILE, with <paramref name="arch"/> when it cannot be inferred).
    /// The preprocessing and class names are the model's own, overridden by the file's ONNX metadata, then by its
    /// sidecar (FILE.json), then by <paramref name="settings"/>. Models with other settings get other ids.
    /// </summary>
    /// <param name="settingsSource">Who gave <paramref name="settings"/>: "flags" (the command line) or "request" (models/load).</param>
    public CnnModel Register(string model, string? weights = null, string? arch = null, ModelSettings? settings = null, string settingsSource = "flags")
    {
        InputText.RequirePath(model, ErrorKind.UnknownModel, "model");
        InputText.RequirePath(weights, ErrorKind.BadModelFile, "weights");
        InputText.RequirePath(arch, ErrorKind.InvalidArgument, "architecture");
        if (weights is not null && !File.Exists(weights))
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"There is no weights file {InputText.Quote(weights)} (looked for at {InputText.Quote(Path.GetFullPath(weights))}): check the path.");
        var builtIn = Manifest.Models.Any(m => m.Id == model);
        var file = weights ?? (builtIn ? null : model); // the user's file: its sidecar and metadata count
        var resolved = Resolve(file, settings, settingsSource);
        if (weights is null && arch is null && resolved.IsEmpty) return Get(model);
        var id = weights is not null ? $"{model}@{Path.GetFullPath(weights)}"
            : arch is not null ? $"{Path.GetFullPath(model)}#{arch}"
            : builtIn ? model : Path.GetFullPath(model);
        if (!resolved.IsEmpty) id += $"?settings={resolved.Key()}";
        _files[id] = weights is not null ? () => WithWeightsFile(model, Path.GetFullPath(weights), id, resolved)
            : builtIn ? () => Finish(BuildEntry(GetEntry(model), resolved, id), resolved, "models.json")
            : () => FromFile(Path.GetFullPath(model), arch, id, resolved);
        return Get(id);
    }

    /// <summary>The settings of a model file: its ONNX metadata, its sidecar, then <paramref name="settings"/>.</summary>
    public static ResolvedSettings Resolve(string? file, ModelSettings? settings, string settingsSource = "flags")
    {
        var layers = new List<(ModelSettings?, string)>();
        if (file is not null && File.Exists(file))
        {
            if (Path.GetExtension(file).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
                layers.Add((ModelSettings.FromMetadata(Onnx.OnnxMetadata.Read(file), file), $"{Path.GetFileName(file)} metadata_props"));
            layers.Add((ModelSettings.ReadSidecar(file), ModelSettings.SidecarPath(file)));
        }
        layers.Add((settings, settingsSource));
        return new ResolvedSettings(layers);
    }

    /// <summary>Other weights for a built-in entry's architecture: a checkpoint, or Keras's VGG16 HDF5 file.</summary>
    private CnnModel WithWeightsFile(string model, string path, string id, ResolvedSettings settings)
    {
        var entry = GetEntry(model);
        if (Path.GetExtension(path).Equals(".h5", StringComparison.OrdinalIgnoreCase) || Path.GetExtension(path).Equals(".hdf5", StringComparison.OrdinalIgnoreCase))
            return entry.Arch != "vgg16"
                ? throw new CnnInterpretException(ErrorKind.InvalidArgument, $"Keras HDF5 weights ('{path}') are read for VGG16 only: use --model vgg16 --weights FILE.h5.")
                : Finish(KerasVgg16.Load(path, id, ImageNetClasses(), settings.Apply), settings, "Keras's VGG16 preprocessing (caffe: BGR, minus the ImageNet mean, no scaling)");
        return entry is { Architecture: not null } own
            ? Finish(AsBuiltInArchitecture(own with { Input = settings.Apply(own.Input) }, path, id), settings, "models.json")
            : Finish(FromCheckpoint(id, entry.Arch ?? model, path, entry, settings: settings), settings, "torchvision's ImageNet transform");
    }

    /// <summary>
    /// Gives a built model the class names of <paramref name="settings"/> (after checking there is one per output) and
    /// records where its input settings came from; disposes it when they do not fit.
    /// </summary>
    private static CnnModel Finish(CnnModel model, ResolvedSettings settings, string defaults)
    {
        try
        {
            if (settings.Labels is { } labels)
            {
                var source = settings.Sources["labels"];
                if (model.OutputShape is not [var count])
                    throw new CnnInterpretException(ErrorKind.InvalidArgument,
                        $"'{source}' names classes, but model '{model.DisplayName}' gives an output of shape [{string.Join(", ", model.OutputShape)}], not one score per class. Remove the labels.");
                if (labels.Count != count)
                    throw new CnnInterpretException(ErrorKind.InvalidArgument,
                        $"'{source}' has {labels.Count} labels, but model '{model.DisplayName}' has {count} outputs. Give exactly one label per class, in the order of the model's outputs.",
                        new { labels = labels.Count, outputs = count });
                model.Classes = labels;
            }
            model.Origin = new InputOrigin(defaults, settings.Preset, settings.Sources);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>What a model keeps resident: its parameters as float32.</summary>
    private static long BytesOf(CnnModel model) => model.ParameterCount * sizeof(float);

    /// <summary>
    /// Unloads the least recently used models (never <paramref name="keep"/>) while the loaded ones hold more than the
    /// memory budget's share for models. An unloaded model is built again on its next use.
    /// </summary>
    private void RetireOverBudget(string keep)
    {
        lock (_retireGate)
        {
            var loaded = Loaded().ToList();
            var total = loaded.Sum(m => BytesOf(m.Model));
            foreach (var (id, model) in loaded.Where(m => m.Id != keep).OrderBy(m => _lastUsed.GetValueOrDefault(m.Id)))
            {
                if (total <= Memory.MemoryBudget.ModelBytes) break;
                Retire(id, model, $"the loaded models passed the memory budget's {Memory.MemoryBudget.ModelBytes >> 20} MiB for models when '{InputText.Quote(keep, 80)}' loaded");
                total -= BytesOf(model);
            }
        }
    }

    /// <summary>Unloads the models not used for <paramref name="idle"/>; they are built again on their next use.</summary>
    public void RetireUnused(TimeSpan idle)
    {
        lock (_retireGate)
            foreach (var (id, model) in Loaded().Where(m => Environment.TickCount64 - _lastUsed.GetValueOrDefault(m.Id) > idle.TotalMilliseconds).ToList())
                Retire(id, model, $"not used for {(idle.TotalMinutes >= 1 ? $"{idle.TotalMinutes:F0} minutes" : $"{idle.TotalSeconds:F0} seconds")}");
    }

    /// <summary>
    /// Disposes the models unloaded so far. Call it only when no request is running: one may still be using a model that
    /// was unloaded while it ran. Returns how many were disposed.
    /// </summary>
    public int DisposeRetired()
    {
        var count = 0;
        while (_retired.TryDequeue(out var model))
        {
            model.Dispose();
            count++;
        }
        return count;
    }

    /// <summary>The loaded models.</summary>
    private IEnumerable<(string Id, CnnModel Model)> Loaded() =>
        _loaded.Where(kv => kv.Value.IsValueCreated).Select(kv => (kv.Key, kv.Value.Value));

    /// <summary>Unloads a model now, saying <paramref name="why"/> in the log; it is built again on its next use.</summary>
    public void Unload(string id, string why)
    {
        lock (_retireGate)
            if (_loaded.TryGetValue(id, out var lazy) && lazy.IsValueCreated) Retire(id, lazy.Value, why);
    }

    private void Retire(string id, CnnModel model, string why)
    {
        if (!_loaded.TryRemove(id, out _)) return; // a registered file stays in _files: Get builds it again
        _retired.Enqueue(model);
        _unloaded[id] = 0;
        Log?.Invoke($"Unloaded model '{InputText.Quote(id, 120)}' ({BytesOf(model) / 1e6:F0} MB of weights): {why}. It loads again when next used.");
    }

    /// <summary>Builds a model with the given entry's VGG architecture and random weights (for training).</summary>
    public static CnnModel BuildUntrained(ModelEntry entry) =>
        new(entry.Id, entry.DisplayName, entry.Input, entry.Classes,
            (entry.Architecture ?? throw new CnnInterpretException(ErrorKind.BadModelFile, $"Model '{entry.Id}' has no VGG architecture in models.json.")).BuildLayers());

    /// <summary>Builds a model, then returns what loading it used besides its weights (the file's reading, the state_dict) to the OS.</summary>
    private CnnModel BuildAndGiveBack(string id)
    {
        try { return Build(id); }
        finally { Memory.ProcessMemory.GiveBack(); }
    }

    private CnnModel Build(string id)
    {
        if (_files.TryGetValue(id, out var fromFile)) return fromFile();
        if (Manifest.Models.All(m => m.Id != id) && File.Exists(id)) return FromFile(Path.GetFullPath(id), null, id, Resolve(id, null));
        return BuildEntry(GetEntry(id));
    }

    /// <summary>A built-in model; with <paramref name="settings"/>, under <paramref name="id"/> with its preprocessing changed.</summary>
    private CnnModel BuildEntry(ModelEntry entry, ResolvedSettings? settings = null, string? id = null)
    {
        if (settings is not null) entry = entry with { Input = settings.Apply(entry.Input) };
        var model = BuildEntryModel(entry);
        if (id is not null) model.Id = id;
        return model;
    }

    private CnnModel BuildEntryModel(ModelEntry entry)
    {
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
        Dictionary<string, Tensor>? state = null, ResolvedSettings? settings = null)
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
            settings?.Apply(entry?.Input ?? TorchvisionArchitectures.ImageNet) ?? entry?.Input ?? TorchvisionArchitectures.ImageNet,
            classes, TorchvisionArchitectures.BuildLayers(arch, classCount)); // a fine-tuned head: its class count read from the file
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

    private CnnModel FromFile(string path, string? arch, string id, ResolvedSettings settings)
    {
        if (!File.Exists(path))
            throw new CnnInterpretException(ErrorKind.BadModelFile, $"The model file '{path}' does not exist.");
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".onnx")
        {
            int[]? size = settings.Crop is { } crop ? [settings.Channels == "gray" ? 1 : 3, crop[0], crop[1]] : null;
            try
            {
                return Finish(Onnx.OnnxModelFactory.Import(path, id: id, adjust: settings.IsEmpty ? null : settings.Apply, sizeHint: size),
                    settings, "the ONNX input (pixels scaled to 0–1, no mean or std)");
            }
            catch (CnnInterpretException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
            {
                throw new CnnInterpretException(e.Kind, $"'{path}': {e.Message}", e.Details, e); // name the file the user opened
            }
        }
        var builtIns = Manifest.Models.Where(m => m.Architecture is not null).ToList();
        if (arch is not null && builtIns.FirstOrDefault(m => m.Id == arch) is { } named)
            return Finish(AsBuiltInArchitecture(named with { Input = settings.Apply(named.Input) }, path, id), settings, "models.json");
        const string torchvision = "torchvision's ImageNet transform";
        if (arch is not null) return Finish(FromCheckpoint(id, arch, path, settings: settings), settings, torchvision);
        using var scope = NewDisposeScope();
        var state = LoadStateDict(path); // read once, whichever architecture it turns out to be
        if (TorchvisionArchitectures.Infer(state) is { } inferred) return Finish(FromCheckpoint(id, inferred, path, state: state, settings: settings), settings, torchvision);
        // Not torchvision's: perhaps weights for one of our own architectures (a retrained fashion-vgg, say).
        var hash = Sha256File(path);
        foreach (var entry in builtIns)
        {
            CnnModel fitted;
            try { fitted = WithWeights(entry with { Input = settings.Apply(entry.Input) }, state, path, hash, id); }
            catch (CnnInterpretException) { continue; } // not this one
            return Finish(fitted, settings, "models.json");
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

    public List<string> ImageNetClasses() =>
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
        DisposeRetired();
    }
}
