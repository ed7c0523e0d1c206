using System.Runtime.InteropServices;
using CnnInterpret.Core;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>How a request is scheduled.</summary>
public enum Lane
{
    /// <summary>Answers a click (a layer, a prediction, a page of feature maps): runs at once.</summary>
    Interactive,

    /// <summary>Many forward passes (LIME, SHAP, filter patterns, sweeps, downloads): one at a time, first come first served.</summary>
    Heavy,
}

/// <summary>
/// Runs a request's work off the message loop and turns every failure into a JSON-RPC error the client
/// can act on: expected failures keep their <see cref="ErrorKind"/> as the code, cancellation stays
/// cancellation, and anything else is logged in full and reported as internal without a stack trace.
/// Scheduling: heavy requests queue for a single slot, so one user's LIME never starves a feature-map
/// click, which runs beside it at once (libtorch shares the cores between the two); a queued heavy request
/// can be cancelled while it waits.
/// </summary>
public sealed class RequestRunner(ILogger<RequestRunner> logger) : IDisposable
{
    private readonly SemaphoreSlim _heavy = new(1, 1);

    /// <summary>The host's container disposes its singletons when the daemon stops.</summary>
    public void Dispose() => _heavy.Dispose();

    public async Task<T> Run<T>(Func<T> work, CancellationToken cancellation, Lane lane = Lane.Interactive)
    {
        var holdsHeavySlot = false;
        try
        {
            cancellation.ThrowIfCancellationRequested();
            if (lane == Lane.Heavy)
            {
                await _heavy.WaitAsync(cancellation).ConfigureAwait(false);
                holdsHeavySlot = true;
            }
            var result = await Task.Run(work, cancellation).ConfigureAwait(false);
            EnsureWritable(result);
            return result;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw; // StreamJsonRpc answers RequestCanceled (-32800)
        }
        catch (CnnInterpretException e)
        {
            logger.ExpectedFailure(e.Kind, e.Message);
            throw Error(e.Kind, e.Message, e.Details);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            logger.OutOfMemory(e);
            throw Error(ErrorKind.OutOfMemory, "The daemon ran out of memory for this request. Try a smaller image, fewer channels or samples, or close other models; the daemon is still running.");
        }
        catch (Exception e)
        {
            logger.InternalError(e);
            throw Error(ErrorKind.Internal, $"Internal error ({e.GetType().Name}: {e.Message}). The daemon is still running; the log (CNN Interpret output) has the details.");
        }
        finally
        {
            if (holdsHeavySlot) _heavy.Release();
        }
    }

    /// <summary>
    /// A result that JSON cannot hold (a NaN or an infinity) would fail inside StreamJsonRpc, after the handler, and
    /// reach the client as "invalid parameters". Writing it once here makes it the internal error it is, with the reason.
    /// </summary>
    private static void EnsureWritable<T>(T result)
    {
        try
        {
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(result, result?.GetType() ?? typeof(T), RpcServer.JsonOptions);
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or NotSupportedException)
        {
            throw new CnnInterpretException(ErrorKind.Internal,
                $"Internal error: the result could not be sent ({e.Message}). The daemon is still running; please report this with the request that caused it.");
        }
    }

    public static void RequireParams(object? request, string names)
    {
        if (request is null)
            throw new CnnInterpretException(ErrorKind.InvalidArgument, $"This method takes one parameter object with: {names}.");
    }

    /// <summary>Managed OOM, or libtorch's allocator failing ("DefaultCPUAllocator: can't allocate memory", CUDA's "out of memory").</summary>
    private static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException
        || (e is ExternalException && (e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
                                       || e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)));

    private static LocalRpcException Error(ErrorKind kind, string message, object? details = null) =>
        new(message) { ErrorCode = (int)kind, ErrorData = new ErrorData(kind.ToString(), details) };
}
