using CnnInterpret.Core;
using CnnInterpret.Daemon;
using Microsoft.Extensions.Logging.Abstractions;
using StreamJsonRpc;
using static TorchSharp.torch;

namespace CnnInterpret.Tests.Daemon;

/// <summary>Native failures become JSON-RPC errors with the right code, never a crash.</summary>
public sealed class RequestRunnerTests : IDisposable
{
    private readonly RequestRunner _runner = new(NullLogger<RequestRunner>.Instance);

    public void Dispose() => _runner.Dispose();

    [Fact]
    public async Task Libtorch_running_out_of_memory_is_an_out_of_memory_error()
    {
        // A real allocation failure inside libtorch: 16 TiB of floats.
        var e = await Assert.ThrowsAsync<LocalRpcException>(() => _runner.Run(() => empty(1L << 42).numel(), CancellationToken.None));
        Assert.Equal((int)ErrorKind.OutOfMemory, e.ErrorCode);
        Assert.Contains("still running", e.Message);
    }

    [Fact]
    public async Task A_libtorch_error_inside_an_op_is_an_internal_error_with_its_message()
    {
        // Shapes that do not fit, through an op TorchSharp guards (the error crosses as ExternalException).
        var e = await Assert.ThrowsAsync<LocalRpcException>(() => _runner.Run(() => (ones(2, 3) + ones(4, 5)).numel(), CancellationToken.None));
        Assert.Equal((int)ErrorKind.Internal, e.ErrorCode);
        Assert.Contains("must match", e.Message);
    }

    [Fact]
    public async Task A_result_holding_a_non_finite_number_is_an_internal_error_not_invalid_parameters()
    {
        var e = await Assert.ThrowsAsync<LocalRpcException>(() => _runner.Run(() => new { activation = float.PositiveInfinity }, CancellationToken.None));
        Assert.Equal((int)ErrorKind.Internal, e.ErrorCode);
        Assert.Contains("could not be sent", e.Message);
        Assert.Equal(3f, (await _runner.Run(() => new { activation = 3f }, CancellationToken.None)).activation); // the next request is served
    }

    [Fact]
    public async Task Expected_failures_keep_their_kind_and_cancellation_stays_cancellation()
    {
        var e = await Assert.ThrowsAsync<LocalRpcException>(() => _runner.Run<int>(() => throw new CnnInterpretException(ErrorKind.UnknownLayer, "no layer"), CancellationToken.None));
        Assert.Equal((int)ErrorKind.UnknownLayer, e.ErrorCode);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _runner.Run(() => 1, cancelled.Token, Lane.Heavy));
    }
}
