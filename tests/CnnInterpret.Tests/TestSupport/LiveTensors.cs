namespace CnnInterpret.Tests.TestSupport;

/// <summary>Counts the tensors alive in this process, for tests that check a request leaves none behind.</summary>
public static class LiveTensors
{
    /// <summary>
    /// The live tensor count once every unreachable tensor has been finalised: other tests' undisposed tensors are
    /// finalised by the GC at any time, and must not be while a test counts.
    /// </summary>
    public static long Count()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return TorchSharp.torch.Tensor.TotalCount;
    }
}
