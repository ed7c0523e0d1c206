using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace CnnInterpret.Daemon;

/// <summary>
/// Serves JSON-RPC 2.0 with Content-Length framing (what vscode-jsonrpc speaks) on the given streams until
/// the client closes its end, then stops the host.
/// </summary>
public sealed class RpcServer(
    Stream input,
    Stream output,
    IEnumerable<object> handlers,
    IHostApplicationLifetime lifetime,
    ProgressNotifier progress,
    ILogger<RpcServer> logger,
    int maxMessageBytes = FramedMessageHandler.DefaultMaxMessageBytes,
    RequestRunner? runner = null) : BackgroundService
{
    /// <summary>How results and parameters are written and read (camelCase, nulls left out).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static SystemTextJsonFormatter CreateFormatter() => new() { JsonSerializerOptions = JsonOptions };

    /// <summary>
    /// Serves until the client closes stdin (every request read is answered first) or the host stops (a signal: requests
    /// in flight are cancelled). Either way the requests still running finish before this returns, and only then may the
    /// host dispose the engine and its models: work in flight never meets a disposed tensor.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var rpc = new ClearErrorsJsonRpc(new FramedMessageHandler(output, input, CreateFormatter(), logger, maxMessageBytes))
        {
            CancelLocallyInvokedMethodsWhenConnectionIsClosed = true,
        };
        var options = new JsonRpcTargetOptions { AllowNonPublicInvocation = false, DisposeOnDisconnect = false };
        foreach (var handler in handlers) rpc.AddLocalRpcTarget(handler, options);
        rpc.AddLocalRpcMethod(FramedMessageHandler.MalformedMessageMethod,
            new Action<string>(reason => throw new LocalRpcException(reason) { ErrorCode = (int)JsonRpcErrorCode.ParseError }));
        rpc.AddLocalRpcMethod(FramedMessageHandler.RefusedMessageMethod,
            new Action<string>(reason => throw new LocalRpcException(reason) { ErrorCode = (int)JsonRpcErrorCode.InvalidParams }));
        progress.Attach(rpc);
        rpc.StartListening();
        logger.Listening(Environment.ProcessId);
        try
        {
            await rpc.Completion.WaitAsync(stoppingToken).ConfigureAwait(false);
            logger.ClientDisconnected();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.ConnectionFailed(e);
        }
        finally
        {
            rpc.Dispose(); // cancels what is still running (a signal stopped the host)
            if (runner is not null)
            {
                var idle = runner.WhenIdleAsync();
                if (!idle.IsCompleted) logger.WaitingForRequests();
                await idle.ConfigureAwait(false);
            }
            lifetime.StopApplication();
        }
    }

    /// <summary>
    /// Failures StreamJsonRpc raises itself (parameters that do not bind, say) are reported with a clear
    /// message and no stack trace: the client sees what to fix, the log keeps the rest.
    /// </summary>
    private sealed class ClearErrorsJsonRpc(IJsonRpcMessageHandler handler) : JsonRpc(handler)
    {
        protected override JsonRpcError.ErrorDetail CreateErrorDetails(JsonRpcRequest request, Exception exception)
        {
            if (exception is LocalRpcException) return base.CreateErrorDetails(request, exception);
            var bindingFailure = exception as JsonException ?? exception.InnerException as JsonException;
            return bindingFailure is not null
                ? new JsonRpcError.ErrorDetail
                {
                    Code = JsonRpcErrorCode.InvalidParams,
                    Message = $"Invalid parameters for '{request.Method}': {bindingFailure.Message} Pass one object with the documented fields and types.",
                }
                : new JsonRpcError.ErrorDetail
                {
                    Code = (JsonRpcErrorCode)(int)CnnInterpret.Core.ErrorKind.Internal,
                    Message = $"Internal error in '{request.Method}' ({exception.GetType().Name}: {exception.Message}). The daemon is still running.",
                };
        }
    }
}
