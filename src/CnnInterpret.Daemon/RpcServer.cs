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
    ILogger<RpcServer> logger) : BackgroundService
{
    public static SystemTextJsonFormatter CreateFormatter() => new()
    {
        JsonSerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        },
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var rpc = new ClearErrorsJsonRpc(new TolerantHeaderDelimitedMessageHandler(output, input, CreateFormatter(), logger));
        var options = new JsonRpcTargetOptions { AllowNonPublicInvocation = false, DisposeOnDisconnect = false };
        foreach (var handler in handlers) rpc.AddLocalRpcTarget(handler, options);
        rpc.AddLocalRpcMethod(TolerantHeaderDelimitedMessageHandler.MalformedMessageMethod,
            new Action<string>(reason => throw new LocalRpcException(reason) { ErrorCode = (int)JsonRpcErrorCode.ParseError }));
        progress.Attach(rpc);
        rpc.StartListening();
        logger.LogInformation("CNN Interpret daemon listening on stdio (pid {Pid})", Environment.ProcessId);
        try
        {
            await rpc.Completion.WaitAsync(stoppingToken).ConfigureAwait(false);
            logger.LogInformation("Client disconnected; exiting");
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError(e, "The JSON-RPC connection failed");
        }
        finally
        {
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

    /// <summary>
    /// A header-delimited handler that answers a message whose body is not valid JSON-RPC with a parse
    /// error (id null, as the spec says) instead of dropping the connection. The framing has already consumed
    /// the body, so the next message reads normally.
    /// </summary>
    private sealed class TolerantHeaderDelimitedMessageHandler(Stream writer, Stream reader, IJsonRpcMessageFormatter formatter, ILogger logger)
        : HeaderDelimitedMessageHandler(writer, reader, formatter)
    {
        public const string MalformedMessageMethod = "$/cnnInterpret/malformedMessage";

        protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await base.ReadCoreAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or FormatException or BadRpcHeaderException
                                      || e.InnerException is JsonException)
            {
                logger.LogWarning("Malformed message: {Message}", e.Message);
                var reason = $"Malformed JSON-RPC message ({e.Message}). Each message must be one JSON-RPC 2.0 object after a Content-Length header.";
                return new JsonRpcRequest
                {
                    RequestId = RequestId.Null,
                    Method = MalformedMessageMethod,
                    ArgumentsList = [reason],
                };
            }
        }
    }
}
