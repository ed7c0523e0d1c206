using System.Buffers.Binary;
using System.Collections;
using System.Numerics;
using System.Text;

namespace CnnInterpret.Core.Models.Checkpoints;

/// <summary>A global a pickle names (module and attribute), the only kind of callable we let it use.</summary>
public sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A call the pickle asked for (REDUCE/NEWOBJ), left for the caller to interpret.</summary>
public sealed record PickleCall(PickleGlobal Callable, object?[] Arguments);

/// <summary>
/// A pickle reader that never runs code: it builds plain values (numbers, strings, tuples, lists, dicts)
/// and records calls to globals instead of making them, and it refuses any global not on the allow-list
/// before anything else happens — the same promise as PyTorch's <c>weights_only=True</c>. Supports the
/// opcodes of protocols 0–5 that state_dicts use.
/// </summary>
public sealed class SafeUnpickler
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly IReadOnlySet<string> _allowed;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly Func<PickleCall, object?> _call;
    private readonly Action<object?, object?>? _build;
    private int _pos;

    /// <param name="allowedGlobals">"module.name" strings that may appear.</param>
    /// <param name="persistentLoad">Resolves a persistent id (PyTorch's storages).</param>
    /// <param name="call">Interprets an allowed call; may return a placeholder.</param>
    /// <param name="build">
    /// Applies BUILD's state to an object <paramref name="call"/> made (PyTorch 0.1 pickled a tensor as an empty
    /// tensor, then its state); null ignores the state. Dictionaries' state (their attributes, e.g. a
    /// state_dict's _metadata) is always ignored.
    /// </param>
    public SafeUnpickler(ReadOnlyMemory<byte> data, int start, IReadOnlySet<string> allowedGlobals, Func<object?, object?> persistentLoad, Func<PickleCall, object?> call,
        Action<object?, object?>? build = null)
    {
        _data = data;
        _pos = start;
        _allowed = allowedGlobals;
        _persistentLoad = persistentLoad;
        _call = call;
        _build = build;
    }

    /// <summary>Where the next pickle starts (legacy checkpoints hold several in a row).</summary>
    public int Position => _pos;

    private static readonly object Mark = new();

    public object? Load()
    {
        var stack = new List<object?>();
        var memo = new Dictionary<long, object?>();
        while (true)
        {
            var op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: _pos += 8; break; // FRAME: frames are only a buffering hint
                case (byte)'.': return Pop(stack); // STOP
                case (byte)'(': stack.Add(Mark); break; // MARK
                case (byte)'}': stack.Add(new Dictionary<object, object?>()); break;
                case (byte)']': stack.Add(new List<object?>()); break;
                case (byte)')': stack.Add(Array.Empty<object?>()); break;
                case (byte)'t': stack.Add(PopToMark(stack).ToArray()); break; // TUPLE
                case 0x85: stack.Add(new[] { Pop(stack) }); break; // TUPLE1
                case 0x86: { var b = Pop(stack); var a = Pop(stack); stack.Add(new[] { a, b }); break; }
                case 0x87: { var c = Pop(stack); var b = Pop(stack); var a = Pop(stack); stack.Add(new[] { a, b, c }); break; }
                case (byte)'N': stack.Add(null); break;
                case 0x88: stack.Add(true); break;
                case 0x89: stack.Add(false); break;
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                case (byte)'K': stack.Add((long)ReadByte()); break; // BININT1
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case 0x8a: stack.Add(ReadLong(ReadByte())); break; // LONG1
                case 0x8b: stack.Add(ReadLong(CheckedLength(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break; // LONG4
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                case (byte)'X': stack.Add(Utf8(CheckedLength(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break; // BINUNICODE
                case 0x8c: stack.Add(Utf8(ReadByte())); break; // SHORT_BINUNICODE
                case 0x8d: stack.Add(Utf8(CheckedLength(BinaryPrimitives.ReadInt64LittleEndian(Take(8))))); break; // BINUNICODE8
                case (byte)'T': stack.Add(Latin1(CheckedLength(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break; // BINSTRING
                case (byte)'U': stack.Add(Latin1(ReadByte())); break; // SHORT_BINSTRING
                case (byte)'B': stack.Add(Take(CheckedLength(BinaryPrimitives.ReadInt32LittleEndian(Take(4)))).ToArray()); break; // BINBYTES
                case (byte)'C': stack.Add(Take(ReadByte()).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: stack.Add(Take(CheckedLength(BinaryPrimitives.ReadInt64LittleEndian(Take(8)))).ToArray()); break; // BINBYTES8
                case (byte)'c': stack.Add(Global(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: { var name = Pop<string>(stack); var module = Pop<string>(stack); stack.Add(Global(module, name)); break; } // STACK_GLOBAL
                case (byte)'R': { var args = Pop<object?[]>(stack); var f = Pop(stack); stack.Add(Call(f, args)); break; } // REDUCE
                case 0x81: { var args = Pop<object?[]>(stack); var cls = Pop(stack); stack.Add(Call(cls, args)); break; } // NEWOBJ
                case (byte)'b': // BUILD
                {
                    var state = Pop(stack);
                    var target = Peek(stack);
                    if (target is IDictionary) break; // an OrderedDict's attributes (a state_dict's _metadata) are not needed
                    if (target is null or string or long or bool or double or BigInteger or byte[] or object?[] or List<object?> or PickleGlobal)
                        throw Fail("BUILD on something that is not an object a call made");
                    _build?.Invoke(target, state);
                    break;
                }
                case (byte)'Q': stack.Add(_persistentLoad(Pop(stack))); break; // BINPERSID
                case (byte)'q': memo[ReadByte()] = Peek(stack); break; // BINPUT
                case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(stack); break; // LONG_BINPUT
                case 0x94: memo[memo.Count] = Peek(stack); break; // MEMOIZE
                case (byte)'h': stack.Add(Memo(memo, ReadByte())); break; // BINGET
                case (byte)'j': stack.Add(Memo(memo, BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                case (byte)'a': { var item = Pop(stack); AsList(Peek(stack)).Add(item); break; } // APPEND
                case (byte)'e': { var items = PopToMark(stack); AsList(Peek(stack)).AddRange(items); break; } // APPENDS
                case (byte)'s': { var value = Pop(stack); var key = Pop(stack); AsDict(Peek(stack))[Key(key)] = value; break; } // SETITEM
                case (byte)'u': // SETITEMS
                {
                    var items = PopToMark(stack);
                    var dict = AsDict(Peek(stack));
                    for (var i = 0; i + 1 < items.Count; i += 2) dict[Key(items[i])] = items[i + 1];
                    break;
                }
                case (byte)'0': Pop(stack); break; // POP
                case (byte)'2': stack.Add(Peek(stack)); break; // DUP
                case (byte)'1': PopToMark(stack); break; // POP_MARK
                default:
                    throw Fail($"unsupported pickle opcode 0x{op:x2} at byte {_pos - 1}");
            }
        }
    }

    private PickleGlobal Global(string module, string name)
    {
        var global = new PickleGlobal(module, name);
        if (!_allowed.Contains(global.ToString()))
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"The checkpoint refers to '{global}', which a plain state_dict never needs. It was refused: loading a checkpoint never runs code. " +
                "Save the model's state_dict (torch.save(model.state_dict(), path)) and load that instead.",
                new { global = global.ToString() });
        return global;
    }

    private object? Call(object? callable, object?[] args) => callable is PickleGlobal g
        ? _call(new PickleCall(g, args))
        : throw Fail("a call to something that is not an allowed global");

    private static object Key(object? key) => key ?? throw new CnnInterpretException(ErrorKind.BadModelFile, "The checkpoint has a dictionary with a null key.");

    private static List<object?> AsList(object? o) => o as List<object?> ?? throw Fail("APPEND to something that is not a list");

    private static IDictionary AsDict(object? o) => o as IDictionary ?? throw Fail("SETITEM on something that is not a dict");

    private static object? Memo(Dictionary<long, object?> memo, long key) =>
        memo.TryGetValue(key, out var v) ? v : throw Fail($"memo entry {key} is missing");

    private static object? Pop(List<object?> stack)
    {
        if (stack.Count == 0) throw Fail("the pickle's stack ran empty");
        var top = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        if (ReferenceEquals(top, Mark)) throw Fail("unexpected MARK");
        return top;
    }

    /// <summary>Pops a value that must have a given type: a hostile pickle can put anything anywhere.</summary>
    private static T Pop<T>(List<object?> stack) =>
        Pop(stack) is T value ? value : throw Fail($"expected a {typeof(T).Name} on the stack");

    private static object? Peek(List<object?> stack) => stack.Count > 0 ? stack[^1] : throw Fail("the pickle's stack ran empty");

    private static List<object?> PopToMark(List<object?> stack)
    {
        var mark = stack.FindLastIndex(o => ReferenceEquals(o, Mark));
        if (mark < 0) throw Fail("no MARK on the stack");
        var items = stack.GetRange(mark + 1, stack.Count - mark - 1);
        stack.RemoveRange(mark, stack.Count - mark);
        return items;
    }

    private byte ReadByte() => _pos < _data.Length ? _data.Span[_pos++] : throw Fail("the pickle ends too early (is the file truncated?)");

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count < 0 || _pos + count > _data.Length) throw Fail("the pickle ends too early (is the file truncated?)");
        var span = _data.Span.Slice(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private static int CheckedLength(long length) =>
        length is >= 0 and <= int.MaxValue ? (int)length : throw Fail($"an absurd length {length}");

    /// <summary>
    /// A long when it fits (as the BININT opcodes give), else the BigInteger. Two returns, not a conditional: a
    /// conditional's type would be BigInteger, and a small value came back boxed as one.
    /// </summary>
    private object ReadLong(int length)
    {
        var value = new BigInteger(Take(length), isUnsigned: false, isBigEndian: false);
        if (value < long.MinValue || value > long.MaxValue) return value;
        var small = (long)value;
        return small;
    }

    private string Utf8(int length) => Encoding.UTF8.GetString(Take(length));
    private string Latin1(int length) => Encoding.Latin1.GetString(Take(length));

    private string ReadLine()
    {
        var end = _data.Span[_pos..].IndexOf((byte)'\n');
        if (end < 0) throw Fail("the pickle ends too early (is the file truncated?)");
        var line = Encoding.ASCII.GetString(_data.Span.Slice(_pos, end));
        _pos += end + 1;
        return line;
    }

    private static CnnInterpretException Fail(string why) =>
        new(ErrorKind.BadModelFile, $"The checkpoint's pickle is damaged or not a state_dict ({why}). Re-save it with torch.save(model.state_dict(), path).");
}
