namespace CnnInterpret.Core.Caching;

/// <summary>The last few results of an expensive, deterministic computation, by key (least recently used goes first).</summary>
public sealed class RecentResults<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly LinkedList<(TKey Key, TValue Value)> _order = new();
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _nodes = new();

    public bool TryGet(TKey key, out TValue value)
    {
        lock (_order)
        {
            if (_nodes.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    public void Add(TKey key, TValue value)
    {
        lock (_order)
        {
            if (_nodes.Remove(key, out var old)) _order.Remove(old);
            _nodes[key] = _order.AddFirst((key, value));
            while (_order.Count > capacity)
            {
                _nodes.Remove(_order.Last!.Value.Key);
                _order.RemoveLast();
            }
        }
    }
}
