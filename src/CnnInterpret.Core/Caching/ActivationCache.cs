namespace CnnInterpret.Core.Caching;

/// <summary>A layer's output for one image, [C,H,W] or [N], in managed memory.</summary>
public sealed record Activation(float[] Data, int[] Shape);

/// <summary>Everything one forward pass of one image produced.</summary>
public sealed record ImageActivations(
    string ImageHash,
    float[] Logits,
    IReadOnlyDictionary<string, Activation> Layers,
    byte[] DisplayPng)
{
    public long Bytes => Logits.Length * 4L + Layers.Values.Sum(a => a.Data.Length * 4L) + DisplayPng.Length;
}

/// <summary>
/// Activations of every layer keyed by (model, weights, image content hash), least recently used first out
/// under a byte budget. Held as managed arrays rather than tensors so an entry can be evicted while another
/// request is still reading it, with no native memory to free.
/// </summary>
public sealed class ActivationCache(long budgetBytes = 1L << 30)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, ImageActivations Value)>> _entries = new();
    private readonly LinkedList<(string Key, ImageActivations Value)> _order = new();
    private long _bytes;

    public long BudgetBytes { get; } = budgetBytes;
    public long Bytes { get { lock (_gate) return _bytes; } }
    public int Count { get { lock (_gate) return _entries.Count; } }
    public long Hits { get; private set; }
    public long Misses { get; private set; }

    public static string Key(string modelId, string weightsHash, string imageHash) => $"{modelId}|{weightsHash}|{imageHash}";

    /// <summary>The entry for <paramref name="key"/> if it is cached (counted as a hit), else null (not counted: the caller decides whether to fill it).</summary>
    public ImageActivations? TryGet(string key)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node)) return null;
            _order.Remove(node);
            _order.AddFirst(node);
            Hits++;
            return node.Value.Value;
        }
    }

    public ImageActivations GetOrAdd(string key, Func<ImageActivations> compute)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                Hits++;
                return node.Value.Value;
            }
            Misses++;
        }
        var value = compute(); // outside the lock: a forward pass must not block other images
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var existing)) return existing.Value.Value;
            if (value.Bytes > BudgetBytes) return value; // too big to keep; still answer the request
            _entries[key] = _order.AddFirst((key, value));
            _bytes += value.Bytes;
            while (_bytes > BudgetBytes && _order.Last is { } last)
            {
                _order.RemoveLast();
                _entries.Remove(last.Value.Key);
                _bytes -= last.Value.Value.Bytes;
            }
            return value;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
            _order.Clear();
            _bytes = 0;
        }
    }
}
