namespace CnnInterpret.Core.Onnx;

/// <summary>The parts of ONNX's <c>ModelProto</c> this importer uses (field numbers from onnx.proto).</summary>
/// <param name="Opsets">Operator set version by domain ("" is the default ONNX domain).</param>
public sealed record OnnxModelProto(long IrVersion, IReadOnlyDictionary<string, long> Opsets, string ProducerName,
    string ProducerVersion, OnnxGraphProto Graph)
{
    /// <summary>The default domain's operator set (1 when the file names none, as ONNX prescribes).</summary>
    public long Opset => Opsets.TryGetValue("", out var v) ? v : Opsets.TryGetValue("ai.onnx", out v) ? v : 1;
}

public sealed record OnnxGraphProto(
    string Name,
    IReadOnlyList<OnnxNodeProto> Nodes,
    IReadOnlyList<OnnxTensorProto> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs,
    IReadOnlyList<OnnxValueInfo> ValueInfo)
{
    /// <summary>The inputs a caller must give: those without an initializer (older files list initializers as inputs too).</summary>
    public IEnumerable<OnnxValueInfo> RealInputs()
    {
        var initialized = Initializers.Select(i => i.Name).ToHashSet();
        return Inputs.Where(i => !initialized.Contains(i.Name));
    }
}

public sealed record OnnxNodeProto(
    string Name,
    string OpType,
    string Domain,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>"Conv node 'conv1'", or the node's first output when it has no name: for messages.</summary>
    public string Describe() => $"{OpType} node '{(Name.Length > 0 ? Name : Outputs is [var first, ..] ? first : "?")}'";
}

/// <summary>ONNX's AttributeProto.AttributeType values.</summary>
public enum OnnxAttributeType
{
    Undefined = 0, Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5, Floats = 6, Ints = 7, Strings = 8,
    Tensors = 9, Graphs = 10, SparseTensor = 11, SparseTensors = 12, TypeProto = 13, TypeProtos = 14,
}

public sealed class OnnxAttribute
{
    public string Name { get; internal set; } = "";
    public OnnxAttributeType Type { get; internal set; }
    public float Float { get; internal set; }
    public long Int { get; internal set; }
    public string String { get; internal set; } = "";
    public OnnxTensorProto? Tensor { get; internal set; }
    public List<float> Floats { get; } = [];
    public List<long> Ints { get; } = [];
    public List<string> Strings { get; } = [];
}

/// <summary>ONNX's TensorProto.DataType values.</summary>
public enum OnnxDataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
}

/// <summary>A TensorProto: its data is in exactly one of the typed lists or <see cref="Raw"/> (little-endian).</summary>
public sealed class OnnxTensorProto
{
    public string Name { get; internal set; } = "";
    public OnnxDataType DataType { get; internal set; }
    public long[] Dims { get; internal set; } = [];
    public ReadOnlyMemory<byte> Raw { get; internal set; }
    public bool HasRaw { get; internal set; }
    public List<float> Floats { get; } = [];
    public List<long> Int32s { get; } = []; // int32_data also carries int8/uint8/int16/uint16/bool/float16
    public List<long> Int64s { get; } = [];
    public List<double> Doubles { get; } = [];
    public List<long> UInt64s { get; } = [];
    public int StringCount { get; internal set; }
    public bool IsExternal { get; internal set; }
    public bool HasSegment { get; internal set; }

    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);
}

/// <summary>A graph input, output or intermediate value: its element type and shape when the file states them.</summary>
/// <param name="ElemType">The tensor element type, or <see cref="OnnxDataType.Undefined"/> for non-tensor values.</param>
/// <param name="Shape">The dimensions, or null when the rank is unknown.</param>
public sealed record OnnxValueInfo(string Name, OnnxDataType ElemType, IReadOnlyList<OnnxDim>? Shape);

/// <summary>One dimension: a fixed size, a named symbolic size (like "N"), or neither (unknown).</summary>
public readonly record struct OnnxDim(long? Value, string? Param)
{
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";
}
