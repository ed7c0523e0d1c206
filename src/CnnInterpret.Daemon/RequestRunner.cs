using System.Runtime.InteropServices;
using CnnInterpret.Core;
using CnnInterpret.Core.Memory;
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

    /// <summary>
    /// A heavy request that changes a loaded model while it runs (the sanity check randomises the weights in place): it
    /// starts once the requests running have finished, and every other request waits until it ends, so none sees the change.
    /// </summary>
    Exclusive,
}

/// <summary>
/// Runs a request's work off the message loop and turns every failure into a JSON-RPC error the client
/// can act on: expected failures keep their <see cref="ErrorKind"/> as the code, cancellation stays
/// cancellation, and anything else is logged in full and reported as internal without a stack trace.
/// Scheduling: heavy requests queue for a single slot, so one user's LIME never starves a feature-map
/// click, which runs beside it at once (libtorch shares the cores between the two); a queued heavy request
/// can be cancelled while it waits.
/// Memory: a heavy request gives its memory back to the OS when it ends (<see cref="ProcessMemory.GiveBack"/>), and so
/// does the daemon once it has been idle for a moment after quick ones, so its resident size returns to what the models
/// and caches hold. Shutdown: <see cref="WhenIdleAsync"/> lets the server wait for requests in flight before anything is disposed.
/// </summary>
public sealed class RequestRunner : IDisposable
{
    private readonly SemaphoreSlim _heavy = new(1, 1);
    private readonly SemaphoreSlim _exclusive = new(1, 1); // held by an exclusive request while it runs; every other request passes through it to start
    private int _shared; // requests past _exclusive and not yet done
    private TaskCompletionSource _noShared = Completed();
    private readonly ILogger<RequestRunner> _logger;
    private readonly Timer _idleGiveBack;
    private readonly Timer _sweep;
    private readonly Engine? _engine;
    private readonly object _gate = new();
    private int _inFlight;
    private TaskCompletionSource _idle = Completed();

    /// <summary>How long the daemon waits, idle, before giving memory back after quick requests.</summary>
    public static readonly TimeSpan IdleGiveBackDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long a model may go unused before it is unloaded, by default (it loads again on its next use).</summary>
    public static readonly TimeSpan UnusedModelLifetime = TimeSpan.FromMinutes(15);

    private readonly TimeSpan _unusedModelLifetime;

    /// <param name="engine">Whose models are unloaded when unused and disposed once no request runs (none: nothing unloaded).</param>
    /// <param name="unusedModelLifetime">How long a model may go unused (the daemon's --unload-after SECONDS); <see cref="UnusedModelLifetime"/> when null.</param>
    public RequestRunner(ILogger<RequestRunner> logger, Engine? engine = null, TimeSpan? unusedModelLifetime = null)
    {
        _logger = logger;
        _engine = engine;
        _unusedModelLifetime = unusedModelLifetime ?? UnusedModelLifetime;
        _idleGiveBack = new Timer(_ => GiveBackIfIdle(always: true));
        // Looked at every minute, or twice per lifetime when that is shorter, so a model goes within 1.5 lifetimes at most.
        var sweep = TimeSpan.FromTicks(Math.Clamp(_unusedModelLifetime.Ticks / 2, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        _sweep = new Timer(_ => GiveBackIfIdle(always: false), null, sweep, sweep);
    }

    /// <summary>Completes when no request is running (at once when none is).</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate) return _idle.Task;
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    private void Enter()
    {
        lock (_gate)
            if (_inFlight++ == 0) _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void Leave()
    {
        lock (_gate)
        {
            if (--_inFlight > 0) return;
            _idle.TrySetResult();
        }
        _idleGiveBack.Change(IdleGiveBackDelay, Timeout.InfiniteTimeSpan);
    }

    /// <param name="always">After requests: give memory back. From the minute sweep: only when a model was unloaded.</param>
    private void GiveBackIfIdle(bool always)
    {
        int disposed;
        lock (_gate)
        {
            if (_inFlight > 0) return; // the next request's end schedules it again
            // Under the lock, so no request starts while a model is being disposed.
            _engine?.Models.RetireUnused(_unusedModelLifetime);
            disposed = _engine?.Models.DisposeRetired() ?? 0;
        }
        if (always || disposed > 0) ProcessMemory.GiveBack();
    }

    /// <summary>
    /// A shared request passes through <see cref="_exclusive"/> (waiting while an exclusive one holds it) and is counted;
    /// an exclusive one keeps it, then waits until the counted ones have finished.
    /// </summary>
    private async Task<(bool Shared, bool Exclusive)> EnterModelsAsync(bool exclusive, CancellationToken cancellation)
    {
        await _exclusive.WaitAsync(cancellation).ConfigureAwait(false);
        if (!exclusive)
        {
            lock (_gate)
                if (_shared++ == 0) _noShared = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _exclusive.Release();
            return (true, false);
        }
        try
        {
            Task running;
            lock (_gate) running = _noShared.Task;
            await running.WaitAsync(cancellation).ConfigureAwait(false);
            return (false, true);
        }
        catch
        {
            _exclusive.Release();
            throw;
        }
    }

    private void LeaveModels((bool Shared, bool Exclusive) holds)
    {
        if (holds.Exclusive) _exclusive.Release();
        if (!holds.Shared) return;
        lock (_gate)
            if (--_shared == 0) _noShared.TrySetResult();
    }

    public void Dispose()
    {
        _sweep.Dispose();
        _exclusive.Dispose();
        _idleGiveBack.Dispose();
        _heavy.Dispose();
    }

    public async Task<T> Run<T>(Func<T> work, CancellationToken cancellation, Lane lane = Lane.Interactive)
    {
        var holdsHeavySlot = false;
        var holds = (Shared: false, Exclusive: false);
        Enter();
        try
        {
            cancellation.ThrowIfCancellationRequested();
            if (lane is Lane.Heavy or Lane.Exclusive)
            {
                await _heavy.WaitAsync(cancellation).ConfigureAwait(false);
                holdsHeavySlot = true;
            }
            holds = await EnterModelsAsync(lane == Lane.Exclusive, cancellation).ConfigureAwait(false);
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
            _logger.ExpectedFailure(e.Kind, e.Message);
            throw Error(e.Kind, e.Message, e.Details);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            _logger.OutOfMemory(e);
            throw Error(ErrorKind.OutOfMemory, "The daemon ran out of memory for this request. Try a smaller image, fewer channels or samples, or close other models; the daemon is still running.");
        }
        catch (Exception e)
        {
            _logger.InternalError(e);
            throw Error(ErrorKind.Internal, $"Internal error ({e.GetType().Name}: {e.Message}). The daemon is still running; the log (CNN Interpret output) has the details.");
        }
        finally
        {
            LeaveModels(holds);
            if (holdsHeavySlot)
            {
                ProcessMemory.GiveBack(); // what the batches used goes back to the OS before the next heavy request starts
                _heavy.Release();
            }
            Leave();
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
