using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnInterpret.Core.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Models;

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header
/// of name → {dtype, shape, data_offsets}, then raw little-endian data). Chosen for the embedded
/// weights because PyTorch, numpy and every ML stack read it, and reading it cannot run code.
/// Only float32 is needed by our models; other dtypes are refused with a clear error.
/// </summary>
public static class SafeTensors
{
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            using var contiguous = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
            var bytes = contiguous.bytes.ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        var headerBytes = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (headerBytes.Length + 7) / 8 * 8; // the format recommends 8-byte alignment of the data
        var tmp = path + ".tmp";
        using (var stream = File.Create(tmp))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(headerBytes);
            for (var i = headerBytes.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var blob in blobs) stream.Write(blob);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>
    /// Loads every tensor of the file. The caller owns (and disposes) the returned tensors. Anything malformed
    /// (the header, a dtype, a shape, offsets outside the data) is refused with a <see cref="CnnInterpretException"/>
    /// naming the file: the header is untrusted data, its sizes are checked before anything is allocated.
    /// Only the header is read into managed memory; each tensor's data goes from the file straight into libtorch's.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (file.Length < 8) throw Bad(path, "shorter than its 8-byte header");
        Span<byte> lengthBytes = stackalloc byte[8];
        file.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(file.Length - 8)) throw Bad(path, "header length past the end of the file");
        if (headerLength > MaxHeaderBytes) throw Bad(path, $"a header of {headerLength:N0} bytes; at most {MaxHeaderBytes:N0} are supported");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        var dataStart = 8 + (long)headerLength;
        var dataLength = file.Length - dataStart;
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw Bad(path, "header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header,
                new JsonDocumentOptions { MaxDepth = 8, AllowDuplicateProperties = false });
        }
        catch (JsonException e) { throw Bad(path, $"header is not JSON: {e.Message}"); }
        using var _ = document;
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "header is not a JSON object");
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var property in document.RootElement.EnumerateObject())
            {
                string name;
                string? dtype;
                try
                {
                    name = property.Name;
                    dtype = property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("dtype", out var d)
                        && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                }
                catch (InvalidOperationException) // an escape such as \ud800 that is no character
                {
                    throw Bad(path, "header holds a string that is not valid text");
                }
                if (name == "__metadata__") continue;
                var node = property.Value;
                if (node.ValueKind != JsonValueKind.Object) throw Bad(path, $"entry '{name}' is not an object");
                if (dtype != "F32") throw Bad(path, $"tensor '{name}' has dtype {dtype ?? "(none)"}; only F32 is supported");
                var shape = Integers(path, node, "shape", name);
                var offsets = Integers(path, node, "data_offsets", name);
                if (offsets.Length != 2 || offsets[0] > offsets[1] || offsets[1] > dataLength)
                    throw Bad(path, $"tensor '{name}' has data offsets outside the file's data");
                var floats = (offsets[1] - offsets[0]) / 4;
                long count = shape.Contains(0) ? 0 : 1;
                foreach (var dim in shape)
                {
                    if (count == 0) break;
                    if (count > floats / dim) throw Bad(path, $"tensor '{name}' has a shape [{string.Join(", ", shape)}] larger than its data");
                    count *= dim;
                }
                if (offsets[1] - offsets[0] != count * 4)
                    throw Bad(path, $"tensor '{name}' has data offsets that do not match its shape [{string.Join(", ", shape)}]");
                file.Position = dataStart + offsets[0];
                using var flat = TensorStorage.Read(file, ScalarType.Float32, count);
                result[name] = flat.reshape(shape);
            }
            return result;
        }
        catch
        {
            foreach (var tensor in result.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>The largest header read (the format's own reader allows 100 MB); VGG16's is about 3 KB.</summary>
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>The most dimensions a tensor may have (models use at most 5; the cap keeps hostile headers cheap).</summary>
    private const int MaxRank = 16;

    private static CnnInterpretException Bad(string path, string why) => new(ErrorKind.BadModelFile,
        $"'{path}' is not a valid safetensors file ({why}). Re-create it, or restore it from the repository.");

    private static long[] Integers(string path, JsonElement node, string field, string name)
    {
        if (!node.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw Bad(path, $"tensor '{name}' has no '{field}' list");
        if (array.GetArrayLength() > MaxRank) throw Bad(path, $"tensor '{name}' has a '{field}' list of {array.GetArrayLength()} entries; at most {MaxRank} are supported");
        var values = new long[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
                throw Bad(path, $"tensor '{name}' has a '{field}' entry that is not a non-negative integer");
            values[i++] = value;
        }
        return values;
    }
}
