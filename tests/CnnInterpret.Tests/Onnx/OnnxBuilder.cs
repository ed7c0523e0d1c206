using System.Text;

namespace CnnInterpret.Tests.Onnx;

/// <summary>Writes protobuf fields (the few wire types ONNX uses), to build tiny ONNX models in tests.</summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> _bytes = []; // a growing buffer with nothing to dispose

    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        Raw((ulong)value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public ProtoWriter Bytes(int field, byte[] value)
    {
        Tag(field, 2);
        Raw((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    public byte[] ToArray() => _bytes.ToArray();

    private void Tag(int field, int wire) => Raw((ulong)(field << 3 | wire));

    private void Raw(ulong value)
    {
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            _bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        } while (value != 0);
    }
}

/// <summary>ONNX messages by field number (onnx.proto), enough for hand-made test graphs.</summary>
internal static class OnnxBuilder
{
    public static ProtoWriter Tensor(string name, long[] dims, float[] data)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Varint(1, d);
        t.Varint(2, 1).String(8, name);
        return t.Bytes(9, data.SelectMany(BitConverter.GetBytes).ToArray());
    }

    public static ProtoWriter Int64Tensor(string name, long[] dims, long[] data)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Varint(1, d);
        t.Varint(2, 7).String(8, name);
        foreach (var v in data) t.Varint(7, v);
        return t;
    }

    public static ProtoWriter Node(string op, string[] inputs, string[] outputs, string name = "", params ProtoWriter[] attributes)
    {
        var n = new ProtoWriter();
        foreach (var i in inputs) n.String(1, i);
        foreach (var o in outputs) n.String(2, o);
        if (name.Length > 0) n.String(3, name);
        n.String(4, op);
        foreach (var a in attributes) n.Message(5, a);
        return n;
    }

    public static ProtoWriter Ints(string name, params long[] values)
    {
        var a = new ProtoWriter().String(1, name).Varint(20, 7);
        foreach (var v in values) a.Varint(8, v);
        return a;
    }

    public static ProtoWriter Int(string name, long value) => new ProtoWriter().String(1, name).Varint(20, 2).Varint(3, value);

    public static ProtoWriter ValueInfo(string name, params long[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var d in dims) shape.Message(1, new ProtoWriter().Varint(1, d));
        var tensorType = new ProtoWriter().Varint(1, 1);
        if (dims.Length > 0) tensorType.Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }

    public static byte[] Model(long opset, IEnumerable<ProtoWriter> nodes, IEnumerable<ProtoWriter> initializers, ProtoWriter[] inputs, ProtoWriter[] outputs)
    {
        var graph = new ProtoWriter();
        foreach (var n in nodes) graph.Message(1, n);
        graph.String(2, "test");
        foreach (var i in initializers) graph.Message(5, i);
        foreach (var i in inputs) graph.Message(11, i);
        foreach (var o in outputs) graph.Message(12, o);
        return new ProtoWriter().Varint(1, 7).String(2, "tests").Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Varint(2, opset)).ToArray();
    }

    /// <summary>
    /// The model with more graph outputs (float tensors): a second graph field is merged into the first by
    /// every protobuf reader, and repeated fields add up, so ONNX Runtime then returns those values too.
    /// </summary>
    public static byte[] WithOutputs(byte[] model, params string[] names)
    {
        var graph = new ProtoWriter();
        foreach (var name in names) graph.Message(12, ValueInfo(name));
        return [.. model, .. new ProtoWriter().Message(7, graph).ToArray()];
    }
}
