using CnnInterpret.Core;
using Microsoft.Extensions.Logging;

namespace CnnInterpret.Daemon;

/// <summary>
/// Every line the daemon logs, in one place. The source generator writes each as a cached template, so a message
/// whose level is off costs no formatting or boxing (the analyzers' CA1848).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "CNN Interpret daemon listening on stdio (pid {Pid})")]
    public static partial void Listening(this ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client disconnected; exiting")]
    public static partial void ClientDisconnected(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "The JSON-RPC connection failed")]
    public static partial void ConnectionFailed(this ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed message: {Problem}")]
    public static partial void MalformedMessage(this ILogger logger, string problem);

    /// <summary>An expected failure (a bad argument, a missing file): the client is told; the log keeps one line.</summary>
    [LoggerMessage(Level = LogLevel.Information, Message = "{Kind}: {Message}")]
    public static partial void ExpectedFailure(this ILogger logger, ErrorKind kind, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Out of memory")]
    public static partial void OutOfMemory(this ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Internal error")]
    public static partial void InternalError(this ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting for the requests in flight to finish or cancel")]
    public static partial void WaitingForRequests(this ILogger logger);

    /// <summary>A message refused before parsing (a string over the limit): its size and why, never its contents.</summary>
    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a {Bytes}-byte message: {Problem}")]
    public static partial void RefusedMessage(this ILogger logger, int bytes, string problem);

    /// <summary>What the model registry did on its own, such as unloading a model.</summary>
    [LoggerMessage(Level = LogLevel.Information, Message = "{Message}")]
    public static partial void Registry(this ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Memory budget {Budget} MiB (--memory-budget or cnnInterpret.memoryBudgetMiB): models {Models} MiB, caches {Caches} MiB, one batch {Batch} MiB")]
    public static partial void MemoryBudget(this ILogger logger, long budget, long models, long caches, long batch);
}
