using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core.Models.Checkpoints;

/// <summary>
/// Reads a checkpoint's raw tensor bytes from a stream straight into a new libtorch tensor's memory: one copy, no
/// whole-file buffer and no managed array of the weights (528 MB for VGG16) waiting for the garbage collector.
/// </summary>
public static partial class TensorStorage
{
    private const int Chunk = 16 << 20;

    /// <summary>
    /// A new contiguous CPU tensor of <paramref name="count"/> elements of <paramref name="type"/>, filled with the next
    /// count × element-size bytes of <paramref name="stream"/> (little-endian, as PyTorch and safetensors write them).
    /// Throws <see cref="EndOfStreamException"/> when the stream ends first. The caller owns the tensor.
    /// </summary>
    public static Tensor Read(Stream stream, ScalarType type, long count)
    {
        var bools = type == ScalarType.Bool; // read as bytes: a stored byte other than 0 or 1 must still become a valid bool
        var tensor = torch.empty(count, bools ? ScalarType.Byte : type);
        try
        {
            var total = count * tensor.ElementSize;
            for (long done = 0; done < total; done += Chunk)
                stream.ReadExactly(NativeTensor.Bytes(tensor, done, (int)Math.Min(Chunk, total - done)));
            if (!bools) return tensor;
            using var bytes = tensor;
            return bytes.ne(0);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>A new contiguous CPU tensor holding <paramref name="bytes"/> (little-endian elements of <paramref name="type"/>), copied once.</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> bytes, ScalarType type, long count)
    {
        var bools = type == ScalarType.Bool;
        var tensor = torch.empty(count, bools ? ScalarType.Byte : type);
        if (bytes.Length != count * tensor.ElementSize)
        {
            tensor.Dispose();
            throw new InvalidDataException($"{bytes.Length} bytes cannot hold {count} elements of {type}");
        }
        if (count > 0) bytes.CopyTo(NativeTensor.Bytes(tensor, 0, bytes.Length));
        if (!bools) return tensor;
        using var raw = tensor;
        return raw.ne(0);
    }

    /// <summary>
    /// Writes <paramref name="tensor"/>'s elements to <paramref name="stream"/> a chunk at a time, straight from libtorch's
    /// memory (no managed copy of a 400 MB layer); a non-contiguous or non-CPU tensor is copied to a contiguous CPU one first.
    /// </summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous(); // the same memory for a contiguous CPU tensor
        var total = cpu.numel() * cpu.ElementSize;
        for (long done = 0; done < total; done += Chunk)
            stream.Write(NativeTensor.Bytes(cpu, done, (int)Math.Min(Chunk, total - done)));
    }

    /// <summary>
    /// Overwrites <paramref name="target"/>'s elements with the next bytes of <paramref name="stream"/> (as <see cref="Write"/>
    /// wrote them): in place for a contiguous CPU tensor, through one temporary tensor otherwise. Call it under no_grad.
    /// </summary>
    public static void ReadInto(Stream stream, Tensor target)
    {
        if (target.device_type != DeviceType.CPU || !target.is_contiguous() || target.dtype == ScalarType.Bool)
        {
            using var read = Read(stream, target.dtype, target.numel());
            target.copy_(read.view(target.shape));
            return;
        }
        var total = target.numel() * target.ElementSize;
        for (long done = 0; done < total; done += Chunk)
            stream.ReadExactly(NativeTensor.Bytes(target, done, (int)Math.Min(Chunk, total - done)));
    }

    /// <summary>
    /// A read-only memory map of a file's first 2 GiB, as <see cref="ReadOnlyMemory{T}"/>: the pickles of a legacy
    /// checkpoint are parsed in place, and only the pages they occupy are read from disk.
    /// </summary>
    public sealed unsafe class MappedFile : MemoryManager<byte>
    {
        private readonly MemoryMappedFile _map;
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _pointer;
        private readonly int _length;

        public MappedFile(FileStream file)
        {
            _length = (int)Math.Min(file.Length, int.MaxValue);
            _map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, _length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _pointer = pointer + _view.PointerOffset;
        }

        public override Span<byte> GetSpan() => new(_pointer, _length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

        public override void Unpin() { }

        protected override void Dispose(bool disposing)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
        }
    }
}
