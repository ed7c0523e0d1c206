using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CnnInterpret.Core;

/// <summary>
/// Tensors filled from managed values by one copy into libtorch's own memory. TorchSharp's <c>tensor(array)</c> clones
/// the array and pins the clone as the tensor's storage, so every batch built that way leaves an image-sized copy on the
/// large-object heap until a full collection runs: on VGG16, LIME's resident size grew by about 1 MB a sample until one
/// did. Anything per batch or image-sized is made here.
/// </summary>
public static partial class NativeTensor
{
    /// <summary>A new contiguous CPU tensor of <paramref name="shape"/> holding <paramref name="values"/> (row-major).</summary>
    public static Tensor From<T>(ReadOnlySpan<T> values, params ReadOnlySpan<long> shape) where T : unmanaged
    {
        var type = default(T) switch
        {
            float => ScalarType.Float32,
            double => ScalarType.Float64,
            long => ScalarType.Int64,
            byte => ScalarType.Byte,
            _ => throw new ArgumentException($"No tensor type for {typeof(T).Name}.", nameof(values)),
        };
        var tensor = empty(shape, type);
        if (tensor.numel() != values.Length)
        {
            tensor.Dispose();
            throw new ArgumentException($"{values.Length} values cannot fill a tensor of shape [{string.Join(", ", shape.ToArray())}].", nameof(values));
        }
        var bytes = MemoryMarshal.AsBytes(values);
        bytes.CopyTo(Bytes(tensor, 0, bytes.Length));
        return tensor;
    }

    /// <summary>
    /// <paramref name="length"/> bytes of a contiguous CPU tensor's memory from <paramref name="offset"/>, to read or write in
    /// place; valid while the tensor lives.
    /// </summary>
    public static unsafe Span<byte> Bytes(Tensor tensor, long offset, int length)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("Only a contiguous CPU tensor's memory can be read in place.", nameof(tensor));
        if (offset < 0 || length < 0 || offset + length > tensor.numel() * tensor.ElementSize)
            throw new ArgumentOutOfRangeException(nameof(length), $"Bytes {offset}…{offset + length} are outside the tensor.");
        return length == 0 ? [] : new((byte*)Data(tensor.Handle) + offset, length);
    }

    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_data")]
    private static partial IntPtr Data(IntPtr tensor);
}
