namespace CnnInterpret.Core;

/// <summary>
/// The kinds of failure a client can branch on. The numeric values are part of the
/// daemon's protocol (they become JSON-RPC error codes) and must never change.
/// </summary>
public enum ErrorKind
{
    BadImage = 1001,
    UnknownModel = 1002,
    UnknownLayer = 1003,
    InvalidArgument = 1004,
    OutOfMemory = 1005,
    BadModelFile = 1006,
    Network = 1007,
    WeightsMissing = 1008,
    Internal = 1099,
}

/// <summary>An expected failure with a message written for the user: what happened and what to do.</summary>
public sealed class CnnInterpretException(ErrorKind kind, string message, object? details = null, Exception? inner = null)
    : Exception(message, inner)
{
    public ErrorKind Kind { get; } = kind;

    /// <summary>Structured extras for clients (for example the valid layer names).</summary>
    public object? Details { get; } = details;
}
