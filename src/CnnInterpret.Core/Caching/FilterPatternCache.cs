using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace CnnInterpret.Core.Caching;

/// <summary>A cached filter pattern: pixels [C,H,W] in [0,1] and the channel's mean activation before and after.</summary>
/// <param name="Responsive">False when the channel's gradient was zero at every step (a dead channel).</param>
public sealed record CachedPattern(float[] Pixels, int[] Shape, float ActivationBefore, float ActivationAfter, bool Responsive = true);

/// <summary>
/// Filter patterns on disk, one small file per (model weights, layer, channel, preset, steps, seed, size), so a pattern
/// is computed once per machine. Files are written to a temporary name and renamed, so a reader never sees half a
/// file; a file that does not read back (truncated, another version) counts as a miss and is rewritten.
/// The folder is the model registry's (<see cref="Models.CacheDirectories.FilterPatterns"/>: --cache-dir, else
/// <c>CNN_INTERPRET_CACHE</c>, else the platform's user cache folder), created on the first write.
/// </summary>
public sealed class FilterPatternCache(string directory)
{
    // Version 2 adds a flags word (bit 0: not responsive) after the activations; version 1 files still read.
    private static readonly byte[] Magic = "CIFP0002"u8.ToArray(), MagicV1 = "CIFP0001"u8.ToArray();
    private long _hits, _misses;

    public string Directory { get; } = directory;
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);

    public static string Key(string weights, string layer, int channel, string preset, int steps, int seed, int height, int width) =>
        $"{weights}|{layer}|{channel}|{preset}|{steps}|{seed}|{height}x{width}";

    public CachedPattern? TryGet(string key)
    {
        var path = PathOf(key);
        try
        {
            if (File.Exists(path) && Read(File.ReadAllBytes(path), key) is { } pattern)
            {
                Interlocked.Increment(ref _hits);
                return pattern;
            }
        }
        catch (IOException)
        {
        }
        Interlocked.Increment(ref _misses);
        return null;
    }

    /// <summary>Stores a pattern; false when the folder cannot be written (the pattern is then simply not cached).</summary>
    public bool Put(string key, CachedPattern pattern)
    {
        var path = PathOf(key);
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllBytes(temporary, Write(key, pattern));
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            return false;
        }
    }

    private string PathOf(string key) => Path.Combine(Directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))) + ".pattern");

    // Layout: magic, key length + UTF-8 key (guards against hash collisions), C, H, W, before, after, flags, pixels; little-endian.
    private static byte[] Write(string key, CachedPattern p)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write(Magic);
        writer.Write(keyBytes.Length);
        writer.Write(keyBytes);
        foreach (var d in p.Shape) writer.Write(d);
        writer.Write(p.ActivationBefore);
        writer.Write(p.ActivationAfter);
        writer.Write(p.Responsive ? 0 : 1);
        writer.Write(MemoryMarshal.AsBytes(p.Pixels.AsSpan()));
        writer.Flush();
        return stream.ToArray();
    }

    private static CachedPattern? Read(byte[] bytes, string key)
    {
        var span = bytes.AsSpan();
        if (span.Length < Magic.Length + 4) return null;
        var v1 = span[..Magic.Length].SequenceEqual(MagicV1);
        if (!v1 && !span[..Magic.Length].SequenceEqual(Magic)) return null;
        span = span[Magic.Length..];
        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(span);
        if (keyLength < 0 || span.Length < 4 + keyLength + 20 || Encoding.UTF8.GetString(span.Slice(4, keyLength)) != key) return null;
        span = span[(4 + keyLength)..];
        int[] shape = [BinaryPrimitives.ReadInt32LittleEndian(span), BinaryPrimitives.ReadInt32LittleEndian(span[4..]), BinaryPrimitives.ReadInt32LittleEndian(span[8..])];
        var before = BinaryPrimitives.ReadSingleLittleEndian(span[12..]);
        var after = BinaryPrimitives.ReadSingleLittleEndian(span[16..]);
        var flags = v1 || span.Length < 24 ? 0 : BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        span = span[(v1 ? 20 : 24)..];
        var count = (long)shape[0] * shape[1] * shape[2];
        if (shape.Any(d => d <= 0) || span.Length != count * 4) return null;
        return new CachedPattern(MemoryMarshal.Cast<byte, float>(span).ToArray(), shape, before, after, Responsive: (flags & 1) == 0);
    }
}
