using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace CnnInterpret.Core.Onnx;

/// <summary>
/// The protobuf wire format, read by hand (varints, fixed 32/64-bit values and length-delimited fields),
/// over one buffer that holds the whole file: nested messages are slices of it, so tensor data is never
/// copied until it becomes a tensor. Every length is checked against what is left, so a truncated or
/// corrupt file fails with <see cref="ProtoException"/> instead of reading past its end.
/// </summary>
internal ref struct ProtoReader
{
    public const int WireVarint = 0, WireFixed64 = 1, WireLength = 2, WireFixed32 = 5;

    private readonly ReadOnlyMemory<byte> _buffer;
    private int _position;

    public ProtoReader(ReadOnlyMemory<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly bool AtEnd => _position >= _buffer.Length;

    /// <summary>Reads the next field's tag: its number and wire type.</summary>
    public (int Field, int Wire) ReadTag()
    {
        var tag = ReadVarint();
        var field = tag >> 3;
        if (field is 0 or > int.MaxValue) throw new ProtoException($"invalid field number {field}");
        return ((int)field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        var span = _buffer.Span;
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= span.Length) throw new ProtoException("truncated varint");
            var b = span[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new ProtoException("varint longer than 10 bytes");
    }

    public long ReadInt64() => (long)ReadVarint();

    public int ReadInt32() => (int)(long)ReadVarint();

    public float ReadFixed32Float() => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(Take(4).Span));

    public double ReadFixed64Double() => BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(Take(8).Span));

    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8).Span);

    /// <summary>A length-delimited field's bytes (a nested message, a string, packed numbers or raw data).</summary>
    public ReadOnlyMemory<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_buffer.Length - _position)) throw new ProtoException($"a field of {length} bytes runs past the end of its message");
        return Take((int)length);
    }

    public string ReadString()
    {
        var bytes = ReadBytes();
        try { return Strict.GetString(bytes.Span); }
        catch (DecoderFallbackException) { throw new ProtoException("a string is not valid UTF-8"); }
    }

    /// <summary>Skips a field this reader does not use.</summary>
    public void Skip(int wire)
    {
        switch (wire)
        {
            case WireVarint: ReadVarint(); break;
            case WireFixed64: Take(8); break;
            case WireLength: ReadBytes(); break;
            case WireFixed32: Take(4); break;
            default: throw new ProtoException($"unsupported wire type {wire}");
        }
    }

    /// <summary>Appends a repeated int64 field's values, packed (one length-delimited run) or not.</summary>
    public void ReadInt64s(int wire, List<long> into)
    {
        if (wire == WireVarint) { into.Add(ReadInt64()); return; }
        Expect(wire, WireLength);
        var packed = new ProtoReader(ReadBytes());
        while (!packed.AtEnd) into.Add(packed.ReadInt64());
    }

    /// <summary>Appends a repeated float field's values, packed or not.</summary>
    public void ReadFloats(int wire, List<float> into)
    {
        if (wire == WireFixed32) { into.Add(ReadFixed32Float()); return; }
        Expect(wire, WireLength);
        var bytes = ReadBytes();
        if (bytes.Length % 4 != 0) throw new ProtoException("packed floats are not a whole number of 4-byte values");
        if (!BitConverter.IsLittleEndian) throw new ProtoException("big-endian machines are not supported");
        into.AddRange(MemoryMarshal.Cast<byte, float>(bytes.Span));
    }

    /// <summary>Appends a repeated double field's values, packed or not.</summary>
    public void ReadDoubles(int wire, List<double> into)
    {
        if (wire == WireFixed64) { into.Add(ReadFixed64Double()); return; }
        Expect(wire, WireLength);
        var bytes = ReadBytes();
        if (bytes.Length % 8 != 0) throw new ProtoException("packed doubles are not a whole number of 8-byte values");
        for (var i = 0; i < bytes.Length; i += 8) into.Add(BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(bytes.Span[i..])));
    }

    public static void Expect(int wire, int expected)
    {
        if (wire != expected) throw new ProtoException($"wire type {wire} where {expected} was expected");
    }

    private ReadOnlyMemory<byte> Take(int count)
    {
        if (count > _buffer.Length - _position) throw new ProtoException("truncated field");
        var slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>The bytes are not a valid protobuf message (truncated, corrupt, or not protobuf at all).</summary>
internal sealed class ProtoException(string message) : Exception(message);
