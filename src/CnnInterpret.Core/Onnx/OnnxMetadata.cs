namespace CnnInterpret.Core.Onnx;

/// <summary>
/// An ONNX file's <c>metadata_props</c> (ModelProto field 14, key/value strings): where exporters record facts
/// about the model, such as how its input was normalised. Read apart from the graph, from the top level only.
/// </summary>
public static class OnnxMetadata
{
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        var props = new Dictionary<string, string>();
        try
        {
            var reader = new ProtoReader(File.ReadAllBytes(path));
            while (!reader.AtEnd)
            {
                var (field, wire) = reader.ReadTag();
                if (field != 14 || wire != ProtoReader.WireLength) { reader.Skip(wire); continue; }
                var entry = new ProtoReader(reader.ReadBytes());
                string key = "", value = "";
                while (!entry.AtEnd)
                {
                    var (f, w) = entry.ReadTag();
                    if (f == 1 && w == ProtoReader.WireLength) key = entry.ReadString();
                    else if (f == 2 && w == ProtoReader.WireLength) value = entry.ReadString();
                    else entry.Skip(w);
                }
                props[key] = value; // a repeated key: the last one, as protobuf's map semantics say
            }
        }
        catch (ProtoException e)
        {
            throw new CnnInterpretException(ErrorKind.BadModelFile,
                $"'{path}' is not a valid ONNX model ({e.Message}). Check that the file is an .onnx model and was copied whole.", inner: e);
        }
        return props;
    }
}
