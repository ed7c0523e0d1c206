using CnnInterpret.Core;
using CnnInterpret.Core.Memory;
using CnnInterpret.Core.Models.Checkpoints;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Memory;

/// <summary>The one memory budget's arithmetic, its out-of-memory error, and reading tensors straight from a stream.</summary>
public sealed class MemoryBudgetTests
{
    [Fact]
    public void A_batch_holds_as_many_items_as_fit_in_the_given_budget()
    {
        Assert.Equal(10, MemoryBudget.BatchSize(100, budgetBytes: 1000));
        Assert.Equal(9, MemoryBudget.BatchSize(111, budgetBytes: 1000)); // 1000 / 111 = 9.009…
        Assert.Equal(4, MemoryBudget.BatchSize(100, max: 4, budgetBytes: 1000));
        Assert.Equal(1, MemoryBudget.BatchSize(1000, budgetBytes: 1000));
        Assert.Equal(1, MemoryBudget.BatchSize(3000, budgetBytes: 1000)); // over the batch budget, within half the whole one: alone
    }

    [Fact]
    public void The_budget_splits_into_models_caches_and_an_eighth_per_batch()
    {
        Assert.Equal(MemoryBudget.Bytes / 8, MemoryBudget.BatchBytes);
        Assert.Equal(MemoryBudget.Bytes / 10, MemoryBudget.CacheBytes);
        Assert.Equal(MemoryBudget.Bytes, MemoryBudget.ModelBytes + MemoryBudget.CacheBytes + MemoryBudget.BatchBytes);
    }

    [Fact]
    public void An_item_larger_than_half_the_budget_is_an_out_of_memory_error_that_says_what_was_needed_and_what_to_change()
    {
        var half = MemoryBudget.Bytes / 2;
        var e = Assert.Throws<CnnInterpretException>(() => MemoryBudget.BatchSize(half + (300L << 20), budgetBytes: 100L << 20, what: "a test batch"));
        Assert.Equal(ErrorKind.OutOfMemory, e.Kind);
        Assert.Contains("a test batch", e.Message);
        Assert.Contains($"{(half >> 20) + 300} MiB", e.Message);
        Assert.Contains($"at most {half >> 20} MiB", e.Message);
        Assert.Contains("--memory-budget", e.Message);
        Assert.Contains("cnnInterpret.memoryBudgetMiB", e.Message);
    }

    [Fact]
    public void A_budget_below_the_minimum_is_refused()
    {
        var e = Assert.Throws<CnnInterpretException>(() => MemoryBudget.SetMiB(10));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("at least 64 MiB", e.Message);
    }

    [Fact]
    public void Tensors_are_read_from_a_stream_with_their_exact_bytes_and_a_short_stream_is_an_error()
    {
        float[] values = [1.5f, -2.25f, 3e-8f, float.MaxValue];
        var bytes = new byte[values.Length * 4 + 3];
        Buffer.BlockCopy(values, 0, bytes, 3, values.Length * 4);
        using var stream = new MemoryStream(bytes) { Position = 3 };
        using var t = TensorStorage.Read(stream, ScalarType.Float32, values.Length);
        Assert.Equal(values, t.data<float>().ToArray());
        Assert.Equal(bytes.Length, stream.Position);

        using var bools = TensorStorage.Read(new MemoryStream([0, 1, 7, 0]), ScalarType.Bool, 4);
        Assert.Equal([false, true, true, false], bools.data<bool>().ToArray());

        Assert.Throws<EndOfStreamException>(() => TensorStorage.Read(new MemoryStream(new byte[10]), ScalarType.Float32, 3));
    }

    [Fact]
    public void A_native_tensor_holds_its_values_in_libtorchs_memory_and_leaves_no_managed_copy_behind()
    {
        var values = Enumerable.Range(0, 1 << 20).Select(i => i * 0.5f - 7).ToArray(); // 4 MB: an image batch's size
        var before = GC.GetAllocatedBytesForCurrentThread();
        using (var t = NativeTensor.From<float>(values, 2, 512, 1024))
        {
            // TorchSharp's tensor(array) clones the 4 MB into a pinned managed array; this copies it into native memory.
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 10,
                $"{GC.GetAllocatedBytesForCurrentThread() - before} managed bytes allocated for a 4 MB tensor");
            Assert.Equal([2L, 512, 1024], t.shape);
            Assert.Equal(values[^1], t[1, 511, 1023].item<float>());
            Assert.Equal(values, t.data<float>().ToArray());
        }
        using var labels = NativeTensor.From<long>([3L, -1, long.MaxValue], 3);
        Assert.Equal([3L, -1, long.MaxValue], labels.data<long>().ToArray());
        using var masks = NativeTensor.From<byte>([0, 1, 1, 0, 255, 2], 2, 3);
        Assert.Equal((byte)255, masks[1, 1].item<byte>());
        Assert.Throws<ArgumentException>(() => NativeTensor.From<float>([1f, 2f, 3f], 2, 2));
        Assert.Throws<ArgumentException>(() => NativeTensor.From<int>([1, 2], 2));
    }

    [Fact]
    public void A_path_longer_than_any_OS_allows_is_refused_at_once_and_the_error_quotes_only_its_start()
    {
        var path = new string('a', 50_000) + ".png";
        var e = Assert.Throws<CnnInterpretException>(() => CnnInterpret.Core.Imaging.ImageLoader.ReadFile(path, CnnInterpret.Core.Imaging.ImageLimits.Default));
        Assert.Equal(ErrorKind.BadImage, e.Kind);
        Assert.Contains("50,004 characters", e.Message);
        Assert.True(e.Message.Length < 300, e.Message);
    }
}
