using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
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

    /// <summary>Loads every tensor of the file. The caller owns (and disposes) the returned tensors.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        string Fail(string why) => throw new CnnInterpretException(ErrorKind.BadModelFile,
            $"'{path}' is not a valid safetensors file ({why}). Re-create it, or restore it from the repository.");
        if (bytes.Length < 8) Fail("shorter than its 8-byte header");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) Fail("header length past the end of the file");
        JsonObject header;
        try { header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!.AsObject(); }
        catch (JsonException e) { Fail($"header is not JSON: {e.Message}"); throw; }
        var dataStart = 8 + (long)headerLength;
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__" || node is null) continue;
            var dtype = (string?)node["dtype"];
            if (dtype != "F32") Fail($"tensor '{name}' has dtype {dtype}; only F32 is supported");
            var shape = node["shape"]!.AsArray().Select(d => (long)d!).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(d => (long)d!).ToArray();
            var count = shape.Aggregate(1L, (a, b) => a * b);
            if (offsets.Length != 2 || offsets[1] - offsets[0] != count * 4 || dataStart + offsets[1] > bytes.Length)
                Fail($"tensor '{name}' has data offsets that do not match its shape");
            var data = new float[count];
            Buffer.BlockCopy(bytes, (int)(dataStart + offsets[0]), data, 0, (int)(count * 4));
            result[name] = torch.tensor(data, shape);
        }
        return result;
    }
}
