namespace CnnInterpret.Core.Onnx;

/// <summary>
/// Reads <c>.onnx</c> files (ModelProto) and serialized TensorProtos (the <c>.pb</c> files of ONNX's tests)
/// with <see cref="ProtoReader"/>. Fields this importer does not use are skipped; subgraphs, sparse tensors
/// and training information are never read. Sizes are checked: a tensor's data must match its shape.
/// </summary>
public static class OnnxParser
{
    /// <summary>The largest file read (protobuf itself cannot address more than 2 GiB).</summary>
    public const long MaxFileBytes = int.MaxValue;

    private const int MaxRank = 32;

    public static OnnxModelProto ReadModelFile(string path)
    {
        var bytes = ReadFile(path, "ONNX model");
        return ReadModel(bytes, path);
    }

    public static OnnxModelProto ReadModel(ReadOnlyMemory<byte> bytes, string source)
    {
        try
        {
            var model = ParseModel(bytes);
            return model ?? throw new ProtoException("it holds no graph");
        }
        catch (ProtoException e)
        {
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"'{source}' is not a valid ONNX model ({e.Message}). Check that the file is an .onnx model and was copied whole.", inner: e);
        }
    }

    /// <summary>Reads a file holding one serialized TensorProto (ONNX's test data format).</summary>
    public static OnnxTensorProto ReadTensorFile(string path)
    {
        var bytes = ReadFile(path, "tensor");
        try { return ParseTensor(bytes); }
        catch (ProtoException e)
        {
            throw new CnnInterpretException(ErrorKind.BadModelFile, $"'{path}' is not a valid ONNX tensor file ({e.Message}).", inner: e);
        }
    }

    private static byte[] ReadFile(string path, string what)
    {
        if (!File.Exists(path))
            throw new CnnInterpretException(ErrorKind.BadModelFile, $"The {what} file '{path}' does not exist.");
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"'{path}' is {length} bytes; ONNX files larger than 2 GiB keep their weights in external files, which this importer does not read.");
        return File.ReadAllBytes(path);
    }

    private static OnnxModelProto? ParseModel(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        long ir = 0;
        string producer = "", producerVersion = "";
        var opsets = new Dictionary<string, long>();
        var graphs = new List<ReadOnlyMemory<byte>>();
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1 when wire == ProtoReader.WireVarint: ir = reader.ReadInt64(); break;
                case 2 when wire == ProtoReader.WireLength: producer = reader.ReadString(); break;
                case 3 when wire == ProtoReader.WireLength: producerVersion = reader.ReadString(); break;
                case 7 when wire == ProtoReader.WireLength: graphs.Add(reader.ReadBytes()); break;
                case 8 when wire == ProtoReader.WireLength:
                    var (domain, version) = ParseOpset(reader.ReadBytes());
                    opsets[domain] = version;
                    break;
                default: reader.Skip(wire); break;
            }
        }
        // A message field that occurs more than once is merged (protobuf's rule); repeated fields add up.
        return graphs.Count == 0 ? null : new OnnxModelProto(ir, opsets, producer, producerVersion, ParseGraph(graphs));
    }

    private static (string Domain, long Version) ParseOpset(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        string domain = "";
        long version = 0;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == ProtoReader.WireLength) domain = reader.ReadString();
            else if (field == 2 && wire == ProtoReader.WireVarint) version = reader.ReadInt64();
            else reader.Skip(wire);
        }
        return (domain, version);
    }

    private static OnnxGraphProto ParseGraph(IEnumerable<ReadOnlyMemory<byte>> parts)
    {
        string name = "";
        List<OnnxNodeProto> nodes = [];
        List<OnnxTensorProto> initializers = [];
        List<OnnxValueInfo> inputs = [], outputs = [], valueInfo = [];
        foreach (var bytes in parts)
        {
            var reader = new ProtoReader(bytes);
            while (!reader.AtEnd)
            {
                var (field, wire) = reader.ReadTag();
                if (wire != ProtoReader.WireLength) { reader.Skip(wire); continue; }
                switch (field)
                {
                    case 1: nodes.Add(ParseNode(reader.ReadBytes())); break;
                    case 2: name = reader.ReadString(); break;
                    case 5: initializers.Add(ParseTensor(reader.ReadBytes())); break;
                    case 11: inputs.Add(ParseValueInfo(reader.ReadBytes())); break;
                    case 12: outputs.Add(ParseValueInfo(reader.ReadBytes())); break;
                    case 13: valueInfo.Add(ParseValueInfo(reader.ReadBytes())); break;
                    case 15: throw new ProtoException("sparse initializers are not supported");
                    default: reader.Skip(wire); break;
                }
            }
        }
        return new OnnxGraphProto(name, nodes, initializers, inputs, outputs, valueInfo);
    }

    private static OnnxNodeProto ParseNode(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        string name = "", op = "", domain = "";
        List<string> inputs = [], outputs = [];
        var attributes = new Dictionary<string, OnnxAttribute>();
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (wire != ProtoReader.WireLength) { reader.Skip(wire); continue; }
            switch (field)
            {
                case 1: inputs.Add(reader.ReadString()); break;
                case 2: outputs.Add(reader.ReadString()); break;
                case 3: name = reader.ReadString(); break;
                case 4: op = reader.ReadString(); break;
                case 5:
                    var attribute = ParseAttribute(reader.ReadBytes());
                    attributes[attribute.Name] = attribute;
                    break;
                case 7: domain = reader.ReadString(); break;
                default: reader.Skip(wire); break;
            }
        }
        if (op.Length == 0) throw new ProtoException($"node '{name}' has no operator type");
        return new OnnxNodeProto(name, op, domain, inputs, outputs, attributes);
    }

    private static OnnxAttribute ParseAttribute(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        var a = new OnnxAttribute();
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1 when wire == ProtoReader.WireLength: a.Name = reader.ReadString(); break;
                case 2 when wire == ProtoReader.WireFixed32: a.Float = reader.ReadFixed32Float(); break;
                case 3 when wire == ProtoReader.WireVarint: a.Int = reader.ReadInt64(); break;
                case 4 when wire == ProtoReader.WireLength: a.String = reader.ReadString(); break;
                case 5 when wire == ProtoReader.WireLength: a.Tensor = ParseTensor(reader.ReadBytes()); break;
                case 7: reader.ReadFloats(wire, a.Floats); break;
                case 8: reader.ReadInt64s(wire, a.Ints); break;
                case 9 when wire == ProtoReader.WireLength: a.Strings.Add(reader.ReadString()); break;
                case 20 when wire == ProtoReader.WireVarint: a.Type = (OnnxAttributeType)reader.ReadInt32(); break;
                default: reader.Skip(wire); break; // subgraphs, sparse tensors, type protos: never used here
            }
        }
        return a;
    }

    internal static OnnxTensorProto ParseTensor(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        var t = new OnnxTensorProto();
        List<long> dims = [];
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1: reader.ReadInt64s(wire, dims); break;
                case 2 when wire == ProtoReader.WireVarint: t.DataType = (OnnxDataType)reader.ReadInt32(); break;
                case 3: t.HasSegment = true; reader.Skip(wire); break;
                case 4: reader.ReadFloats(wire, t.Floats); break;
                case 5: reader.ReadInt64s(wire, t.Int32s); break;
                case 6: t.StringCount++; reader.Skip(wire); break;
                case 7: reader.ReadInt64s(wire, t.Int64s); break;
                case 8 when wire == ProtoReader.WireLength: t.Name = reader.ReadString(); break;
                case 9 when wire == ProtoReader.WireLength: t.Raw = reader.ReadBytes(); t.HasRaw = true; break;
                case 10: reader.ReadDoubles(wire, t.Doubles); break;
                case 11: reader.ReadInt64s(wire, t.UInt64s); break;
                case 13: t.IsExternal = true; reader.Skip(wire); break;
                case 14 when wire == ProtoReader.WireVarint: t.IsExternal |= reader.ReadInt32() == 1; break;
                default: reader.Skip(wire); break;
            }
        }
        if (dims.Count > MaxRank) throw new ProtoException($"tensor '{t.Name}' has {dims.Count} dimensions");
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw new ProtoException($"tensor '{t.Name}' has a negative dimension");
            count = d == 0 ? 0 : count > long.MaxValue / d ? throw new ProtoException($"tensor '{t.Name}' is absurdly large") : count * d;
        }
        t.Dims = dims.ToArray();
        return t;
    }

    private static OnnxValueInfo ParseValueInfo(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        string name = "";
        var elem = OnnxDataType.Undefined;
        List<OnnxDim>? shape = null;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == ProtoReader.WireLength) name = reader.ReadString();
            else if (field == 2 && wire == ProtoReader.WireLength) (elem, shape) = ParseTensorType(reader.ReadBytes());
            else reader.Skip(wire);
        }
        return new OnnxValueInfo(name, elem, shape);
    }

    /// <summary>TypeProto → its tensor_type (field 1): elem_type (1) and shape (2). Other types stay undefined.</summary>
    private static (OnnxDataType, List<OnnxDim>?) ParseTensorType(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        var elem = OnnxDataType.Undefined;
        List<OnnxDim>? shape = null;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field != 1 || wire != ProtoReader.WireLength) { reader.Skip(wire); continue; }
            var tensorType = new ProtoReader(reader.ReadBytes());
            while (!tensorType.AtEnd)
            {
                var (f, w) = tensorType.ReadTag();
                if (f == 1 && w == ProtoReader.WireVarint) elem = (OnnxDataType)tensorType.ReadInt32();
                else if (f == 2 && w == ProtoReader.WireLength) shape = ParseShape(tensorType.ReadBytes());
                else tensorType.Skip(w);
            }
        }
        return (elem, shape);
    }

    private static List<OnnxDim> ParseShape(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        var dims = new List<OnnxDim>();
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field != 1 || wire != ProtoReader.WireLength) { reader.Skip(wire); continue; }
            var dim = new ProtoReader(reader.ReadBytes());
            long? value = null;
            string? param = null;
            while (!dim.AtEnd)
            {
                var (f, w) = dim.ReadTag();
                if (f == 1 && w == ProtoReader.WireVarint) value = dim.ReadInt64();
                else if (f == 2 && w == ProtoReader.WireLength) param = dim.ReadString();
                else dim.Skip(w);
            }
            if (dims.Count >= MaxRank) throw new ProtoException("a value has more than 32 dimensions");
            dims.Add(new OnnxDim(value, param));
        }
        return dims;
    }
}
