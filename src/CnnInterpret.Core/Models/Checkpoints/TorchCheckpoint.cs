using System.Buffers.Binary;
using System.Collections;
using System.IO.Compression;
using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Models.Checkpoints;

/// <summary>
/// Reads PyTorch checkpoints (a state_dict saved with torch.save) in both of PyTorch's formats without
/// running code: the zip format (PyTorch ≥ 1.6: <c>archive/data.pkl</c> plus one file per storage) and the
/// legacy format (torchvision's published VGG16 is one: five pickles in a row — magic number, protocol,
/// system info, the object, the storage keys — then each storage's raw bytes). Only the globals a
/// state_dict needs are accepted (<see cref="SafeUnpickler"/>), the same ones PyTorch's <c>weights_only=True</c>
/// accepts, so that checkpoints from old PyTorch versions load too: <c>_rebuild_tensor</c> (0.2–0.3), tensor
/// classes made empty then given their state by BUILD (0.1), Python 2's pickles (OrderedDict from a list of
/// pairs, byte strings) and storages saved from a GPU (<c>torch.cuda.FloatStorage</c>, loaded to the CPU).
/// </summary>
public static class TorchCheckpoint
{
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);
    private const long LegacyProtocol = 1001;

    private static readonly Dictionary<string, (ScalarType Type, int Size)> StorageTypes = new()
    {
        ["FloatStorage"] = (ScalarType.Float32, 4), ["DoubleStorage"] = (ScalarType.Float64, 8),
        ["HalfStorage"] = (ScalarType.Float16, 2), ["BFloat16Storage"] = (ScalarType.BFloat16, 2),
        ["LongStorage"] = (ScalarType.Int64, 8), ["IntStorage"] = (ScalarType.Int32, 4),
        ["ShortStorage"] = (ScalarType.Int16, 2), ["CharStorage"] = (ScalarType.Int8, 1),
        ["ByteStorage"] = (ScalarType.Byte, 1), ["BoolStorage"] = (ScalarType.Bool, 1),
    };

    /// <summary>PyTorch 0.1's tensor classes (torch.FloatTensor, …), named like their storages.</summary>
    private static readonly Dictionary<string, ScalarType> TensorClasses =
        StorageTypes.ToDictionary(p => p.Key.Replace("Storage", "Tensor", StringComparison.Ordinal), p => p.Value.Type);

    private static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>(
        StorageTypes.Keys.Concat(TensorClasses.Keys).SelectMany(k => new[] { "torch." + k, "torch.cuda." + k }).Concat([
            "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        ]));

    /// <summary>A storage named by the pickle; its tensor (flat, libtorch's memory) is attached once read.</summary>
    private sealed class Storage(string key, ScalarType type, int elementSize, long count)
    {
        public string Key { get; } = key;
        public ScalarType Type { get; } = type;
        public int ElementSize { get; } = elementSize;
        public long Count { get; } = count;
        public long ByteCount => Count * ElementSize;
        public Tensor? Data { get; set; }
    }

    /// <summary>A tensor as the pickle describes it (a strided view of a storage), built once storages are read.</summary>
    private sealed record TensorView(Storage Storage, long Offset, long[] Size, long[] Stride);

    /// <summary>PyTorch 0.1's torch.FloatTensor() (and kin): empty until BUILD gives it (storage, offset, size, stride).</summary>
    private sealed class LegacyTensor(ScalarType type)
    {
        public ScalarType Type { get; } = type;
        public TensorView? View { get; set; }
    }

    /// <summary>
    /// Loads the state_dict's tensors (the caller owns them). Accepts a bare state_dict or one under "state_dict"/"model".
    /// Each storage is read from the file straight into libtorch's memory (<see cref="TensorStorage"/>); the tensors are
    /// views of those storages, so the weights exist once, never as a whole-file buffer or a managed copy.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (file.Length == 0) throw Bad(path, "the file is empty");
        Span<byte> magic = stackalloc byte[4];
        var zip = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("PK\x03\x04"u8);
        file.Position = 0;
        List<Storage> storages = [];
        try
        {
            object? root;
            (root, storages) = zip ? ReadZip(file, path) : ReadLegacy(file, path);
            return BuildStateDict(root, path);
        }
        catch (EndOfStreamException)
        {
            throw Bad(path, "it ends before all storages (is it truncated?)");
        }
        catch (InvalidDataException e)
        {
            throw Bad(path, e.Message);
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or IndexOutOfRangeException or OverflowException or KeyNotFoundException or NullReferenceException)
        {
            // A structure no PyTorch writes (found by fuzzing): refuse it like any other malformed file.
            throw Bad(path, $"its contents are malformed ({e.GetType().Name})");
        }
        catch (CnnInterpretException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new CnnInterpretException(e.Kind, $"'{path}': {e.Message}", e.Details, e); // the pickle reader does not know the file
        }
        finally
        {
            foreach (var storage in storages) storage.Data?.Dispose(); // the state_dict's views keep what they use
        }
    }

    private static (object? Root, List<Storage> Storages) ReadZip(FileStream file, string path)
    {
        try
        {
            return ReadZipArchive(file, path);
        }
        catch (InvalidDataException e)
        {
            throw Bad(path, $"its zip archive is damaged ({e.Message.TrimEnd('.')}); the file may be truncated (an interrupted download or copy?)");
        }
    }

    private static (object? Root, List<Storage> Storages) ReadZipArchive(FileStream file, string path)
    {
        using var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        var pickle = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                     ?? throw Bad(path, "a zip file without data.pkl is not a PyTorch checkpoint");
        var prefix = pickle.FullName[..^"data.pkl".Length];
        var storages = new Dictionary<string, Storage>();
        var root = new SafeUnpickler(ReadEntry(pickle), 0, AllowedGlobals, pid => PersistentStorage(pid, storages, path), Rebuild, Build).Load();
        var read = new List<Storage>();
        try
        {
            foreach (var storage in storages.Values)
            {
                var entry = zip.GetEntry($"{prefix}data/{storage.Key}") ?? throw Bad(path, $"storage {storage.Key} is missing from the archive");
                if (entry.Length != storage.ByteCount) throw Bad(path, $"storage {storage.Key} has the wrong size");
                using var stream = entry.Open();
                storage.Data = TensorStorage.Read(stream, storage.Type, storage.Count);
                read.Add(storage);
            }
        }
        catch
        {
            foreach (var storage in read) storage.Data?.Dispose();
            throw;
        }
        return (root, read);
    }

    private static (object? Root, List<Storage> Storages) ReadLegacy(FileStream file, string path)
    {
        // The pickles come first and are small: parse them in place from a memory map, then read each storage from the file.
        using var mapped = new TensorStorage.MappedFile(file);
        var bytes = mapped.Memory;
        var position = 0;
        object? Next(IReadOnlySet<string> allowed, Func<object?, object?> persistent)
        {
            var unpickler = new SafeUnpickler(bytes, position, allowed, persistent, Rebuild, Build);
            var value = unpickler.Load();
            position = unpickler.Position;
            return value;
        }

        var none = new HashSet<string>();
        Func<object?, object?> noPersistent = _ => throw Bad(path, "unexpected persistent id in the header");
        object? magic;
        try { magic = Next(none, noPersistent); }
        catch (CnnInterpretException e) when (e.Details is null) // a refused global keeps its own, clearer message
        {
            throw Bad(path, "it is neither a zip checkpoint nor a legacy PyTorch checkpoint");
        }
        if (!(magic is long m ? m == LegacyMagic : magic is BigInteger b && b == LegacyMagic))
            throw Bad(path, "it does not start with PyTorch's magic number");
        if (Next(none, noPersistent) is not long protocol || protocol != LegacyProtocol)
            throw Bad(path, "unsupported legacy protocol version");
        if (Next(none, noPersistent) is IDictionary sysInfo && sysInfo["little_endian"] is false)
            throw Bad(path, "it was written on a big-endian machine");

        var storages = new Dictionary<string, Storage>();
        var root = Next(AllowedGlobals, pid => PersistentStorage(pid, storages, path));
        if (Next(none, noPersistent) is not List<object?> keys) throw Bad(path, "the storage key list is missing");
        var read = new List<Storage>();
        try
        {
            long offset = position;
            Span<byte> header = stackalloc byte[8];
            foreach (var key in keys.Select(k => k as string ?? throw Bad(path, "a storage key that is not a string")))
            {
                if (!storages.TryGetValue(key, out var storage)) throw Bad(path, $"storage {key} is listed but never used");
                if (storage.Data is not null) throw Bad(path, $"storage {key} is listed twice");
                if (offset + 8 > file.Length) throw Bad(path, "it ends before all storages (is it truncated?)");
                file.Position = offset;
                file.ReadExactly(header);
                var count = BinaryPrimitives.ReadInt64LittleEndian(header);
                offset += 8;
                if (count < 0 || count > (file.Length - offset) / storage.ElementSize) throw Bad(path, "it ends before all storages (is it truncated?)");
                if (count != storage.Count) throw Bad(path, $"storage {storage.Key} has the wrong size");
                storage.Data = TensorStorage.Read(file, storage.Type, storage.Count);
                read.Add(storage);
                offset += storage.ByteCount;
            }
        }
        catch
        {
            foreach (var storage in read) storage.Data?.Dispose();
            throw;
        }
        return (root, read);
    }

    /// <summary>('storage', torch.XStorage, key, location, numel[, view_metadata]) → the storage it names.</summary>
    private static Storage PersistentStorage(object? pid, Dictionary<string, Storage> storages, string path)
    {
        if (pid is not object?[] { Length: >= 5 } t || t[0] as string != "storage" || t[1] is not PickleGlobal type || t[2] is not string key || t[4] is not long count)
            throw Bad(path, "a persistent id that is not a PyTorch storage");
        if (!StorageTypes.TryGetValue(type.Name, out var info)) throw Bad(path, $"unsupported storage type {type}");
        if (storages.TryGetValue(key, out var existing)) return existing;
        return storages[key] = new Storage(key, info.Type, info.Size, count);
    }

    private static object? Rebuild(PickleCall call) => call.Callable.ToString() switch
    {
        "collections.OrderedDict" when call.Arguments is [] => new Dictionary<object, object?>(),
        // Python 2 pickled an OrderedDict as OrderedDict([[key, value], …]).
        "collections.OrderedDict" when call.Arguments is [IList pairs and (List<object?> or object?[])] => OrderedDictFromPairs(pairs, call),
        "torch._utils._rebuild_tensor_v2" when call.Arguments is [_, _, _, _, ..] && View(call.Arguments[..4]) is { } view => view,
        "torch._utils._rebuild_tensor" when call.Arguments is [_, _, _, _] && View(call.Arguments) is { } view => view, // PyTorch 0.2–0.3
        "torch._utils._rebuild_parameter" when call.Arguments is [TensorView view, ..] => view,
        _ when call.Arguments is [] && TensorClasses.TryGetValue(call.Callable.Name, out var type)
               && call.Callable.Module is "torch" or "torch.cuda" => new LegacyTensor(type), // PyTorch 0.1; BUILD gives it its state
        _ => throw Misused(call.Callable),
    };

    /// <summary>(storage, storage_offset, size, stride) → the view it describes, or null when it is not that.</summary>
    private static TensorView? View(object?[] args) =>
        args is [Storage s, long offset, object?[] size, object?[] stride]
        && size.All(d => d is long) && stride.All(d => d is long) && size.Length == stride.Length
            ? new TensorView(s, offset, size.Cast<long>().ToArray(), stride.Cast<long>().ToArray())
            : null;

    private static Dictionary<object, object?> OrderedDictFromPairs(IList pairs, PickleCall call)
    {
        var dict = new Dictionary<object, object?>();
        foreach (var pair in pairs)
        {
            if (pair is not (List<object?> or object?[]) || pair is not IList { Count: 2 } kv || kv[0] is null) throw Misused(call.Callable);
            dict[kv[0]!] = kv[1];
        }
        return dict;
    }

    /// <summary>BUILD: PyTorch 0.1's tensor.__setstate__((storage, offset, size, stride)), which is tensor.set_(...).</summary>
    private static void Build(object? target, object? state)
    {
        switch (target)
        {
            case LegacyTensor tensor when tensor.View is null && state is object?[] args && View(args) is { } view && view.Storage.Type == tensor.Type:
                tensor.View = view;
                break;
            case LegacyTensor tensor when tensor.View is null && state is object?[] { Length: 4 } empty && empty[0] is null:
                break; // an empty tensor without a storage
            case TensorView: // a Parameter's (requires_grad, hooks): not needed
                break;
            default:
                throw new CnnInterpretException(ErrorKind.BadModelFile, "The checkpoint sets the state of an object in a way a state_dict never does.");
        }
    }

    private static CnnInterpretException Misused(PickleGlobal callable) =>
        new(ErrorKind.BadModelFile, $"The checkpoint calls {callable} in a way a state_dict never does.");

    private static bool IsTensor(object? value) => value is TensorView or LegacyTensor;

    private static Dictionary<string, Tensor> BuildStateDict(object? root, string path)
    {
        var dict = root as IDictionary ?? throw Bad(path, "it does not hold a dictionary of tensors");
        // Training checkpoints often wrap the state_dict.
        foreach (var wrapper in new[] { "state_dict", "model_state_dict", "model" })
            if (dict.Contains(wrapper) && dict[wrapper] is IDictionary inner && inner.Values.Cast<object?>().Any(IsTensor))
                dict = inner;
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (DictionaryEntry entry in dict)
            {
                if (!IsTensor(entry.Value)) continue; // e.g. a wrapper's epoch counter
                var name = entry.Key as string ?? throw Bad(path, "a state_dict key that is not a string");
                if (name.StartsWith("module.", StringComparison.Ordinal)) name = name["module.".Length..]; // saved from DataParallel
                result[name] = entry.Value switch
                {
                    TensorView view => Materialise(view, path),
                    LegacyTensor { View: { } view } => Materialise(view, path),
                    LegacyTensor empty => torch.empty(0, empty.Type),
                    _ => throw new InvalidOperationException(),
                };
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        if (result.Count == 0) throw Bad(path, "it holds no tensors");
        return result;
    }

    /// <summary>The tensor a view describes: a strided view of its storage's memory (no copy).</summary>
    private static Tensor Materialise(TensorView view, string path)
    {
        var storage = view.Storage;
        var data = storage.Data ?? throw Bad(path, $"storage {storage.Key} is used but its data is missing");
        long last = view.Offset;
        for (var i = 0; i < view.Size.Length; i++) last += Math.Max(0, view.Size[i] - 1) * view.Stride[i];
        if (view.Size.Any(s => s < 0) || view.Offset < 0 || (view.Size.All(s => s > 0) && last >= storage.Count))
            throw Bad(path, $"a tensor reaches past the end of storage {storage.Key}");
        return data.as_strided(view.Size, view.Stride, view.Offset);
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static CnnInterpretException Bad(string path, string why) =>
        new(ErrorKind.BadModelFile, $"'{path}' is not a PyTorch checkpoint this tool can read: {why.TrimEnd('.')}. Save the model's state_dict with torch.save(model.state_dict(), path).");
}
