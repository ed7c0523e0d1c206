using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Onnx;

/// <summary>ONNX element types ↔ TorchSharp scalar types, and TensorProtos → tensors.</summary>
public static class OnnxTensors
{
    /// <summary>The TorchSharp type of an ONNX element type, or null when this importer has no use for it.</summary>
    public static ScalarType? ToScalarType(OnnxDataType type) => type switch
    {
        OnnxDataType.Float => ScalarType.Float32,
        OnnxDataType.Double => ScalarType.Float64,
        OnnxDataType.Float16 => ScalarType.Float16,
        OnnxDataType.Int64 => ScalarType.Int64,
        OnnxDataType.Int32 => ScalarType.Int32,
        OnnxDataType.Int16 => ScalarType.Int16,
        OnnxDataType.Int8 => ScalarType.Int8,
        OnnxDataType.UInt8 => ScalarType.Byte,
        OnnxDataType.Bool => ScalarType.Bool,
        _ => null,
    };

    /// <summary>
    /// The tensor a TensorProto holds, on the CPU, in no dispose scope's care when <paramref name="detach"/>
    /// (weights kept by a module); <paramref name="what"/> names it in errors.
    /// </summary>
    public static Tensor ToTorch(OnnxTensorProto t, string what, bool detach = false)
    {
        CnnInterpretException Fail(string why) => new(ErrorKind.BadModelFile, $"{what}: {why}");
        if (t.IsExternal)
            throw Fail($"tensor '{t.Name}' keeps its data in an external file, which this importer does not read. " +
                 "Save the model with its weights inside (onnx.save_model(model, path, save_as_external_data=False)).");
        if (t.HasSegment) throw Fail($"tensor '{t.Name}' is split into segments, which this importer does not read.");
        var type = ToScalarType(t.DataType) ?? throw Fail($"tensor '{t.Name}' has element type {t.DataType}, which is not supported.");
        var count = t.ElementCount;
        if (count > int.MaxValue) throw Fail($"tensor '{t.Name}' has {count} elements, more than one tensor may hold.");
        var n = (int)count;
        var size = ElementSize(type);
        if (t.HasRaw && t.Raw.Length != (long)n * size)
            throw Fail($"tensor '{t.Name}' has {t.Raw.Length} bytes of data but its shape [{string.Join(", ", t.Dims)}] needs {(long)n * size}.");
        var raw = t.HasRaw ? t.Raw.Span : default;
        int Check(int available) => available == n ? n : throw Fail($"tensor '{t.Name}' has {available} values but its shape [{string.Join(", ", t.Dims)}] needs {n}.");

        Tensor flat = t.HasRaw ? Models.Checkpoints.TensorStorage.FromBytes(raw, type, n) : type switch // raw data: one copy, into libtorch's memory
        {
            ScalarType.Float32 => tensor(t.HasRaw ? MemoryMarshal.Cast<byte, float>(raw).ToArray() : t.Floats.Take(Check(t.Floats.Count)).ToArray()),
            ScalarType.Float64 => tensor(t.HasRaw ? MemoryMarshal.Cast<byte, double>(raw).ToArray() : t.Doubles.Take(Check(t.Doubles.Count)).ToArray()),
            ScalarType.Float16 => tensor(t.HasRaw ? MemoryMarshal.Cast<byte, Half>(raw).ToArray()
                : t.Int32s.Take(Check(t.Int32s.Count)).Select(v => BitConverter.UInt16BitsToHalf((ushort)v)).ToArray()),
            ScalarType.Int64 => tensor(t.HasRaw ? MemoryMarshal.Cast<byte, long>(raw).ToArray() : t.Int64s.Take(Check(t.Int64s.Count)).ToArray()),
            ScalarType.Int32 => tensor(t.HasRaw ? MemoryMarshal.Cast<byte, int>(raw).ToArray() : t.Int32s.Take(Check(t.Int32s.Count)).Select(v => (int)v).ToArray()),
            ScalarType.Int16 => tensor(t.HasRaw ? MemoryMarshal.Cast<byte, short>(raw).ToArray() : t.Int32s.Take(Check(t.Int32s.Count)).Select(v => (short)v).ToArray()),
            ScalarType.Int8 => tensor(t.HasRaw ? MemoryMarshal.Cast<byte, sbyte>(raw).ToArray() : t.Int32s.Take(Check(t.Int32s.Count)).Select(v => (sbyte)v).ToArray()),
            ScalarType.Byte => tensor(t.HasRaw ? raw.ToArray() : t.Int32s.Take(Check(t.Int32s.Count)).Select(v => (byte)v).ToArray()),
            ScalarType.Bool => tensor(t.HasRaw ? raw.ToArray().Select(b => b != 0).ToArray() : t.Int32s.Take(Check(t.Int32s.Count)).Select(v => v != 0).ToArray()),
            _ => throw new InvalidOperationException(),
        };
        var result = flat.reshape(t.Dims);
        if (!ReferenceEquals(result, flat)) flat.Dispose();
        return detach ? result.DetachFromDisposeScope() : result;
    }

    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    /// <summary>A small integer tensor's values (shapes, axes, pads), read on the CPU.</summary>
    public static long[] ToLongs(Tensor t)
    {
        // No disposing here: cpu() and to_type() may hand back the caller's own tensor.
        return t.cpu().to_type(ScalarType.Int64).contiguous().data<long>().ToArray();
    }

    /// <summary>A one-element tensor's value as a double.</summary>
    public static double ToDouble(Tensor t)
    {
        return t.cpu().to_type(ScalarType.Float64).contiguous().data<double>()[0];
    }
}
