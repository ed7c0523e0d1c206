using System.Diagnostics;
using System.Text.Json;
using CnnInterpret.Core.Explainers;
using StreamJsonRpc;

namespace CnnInterpret.Daemon;

/// <summary>
/// Sends LSP-style work-done progress: when a request's params carry a <c>workDoneToken</c>, progress goes
/// out as <c>$/progress</c> notifications <c>{token, value: {kind, message, percentage, partial?, patterns?}}</c>, at most
/// every 100 ms (the last report, and one carrying finished filter patterns, always go out), which is what
/// vscode-jsonrpc's progress API listens to.
/// </summary>
public sealed class ProgressNotifier
{
    private JsonRpc? _rpc;

    public void Attach(JsonRpc rpc) => _rpc = rpc;

    public IProgress<ExplainProgress>? For(JsonElement? token)
    {
        if (token is not { ValueKind: JsonValueKind.String or JsonValueKind.Number } t || _rpc is null) return null;
        return new Reporter(_rpc, t.Clone());
    }

    private sealed class Reporter(JsonRpc rpc, JsonElement token) : IProgress<ExplainProgress>
    {
        private readonly Stopwatch _sinceLast = Stopwatch.StartNew();
        private bool _begun, _ended;
        private Task _sent = Task.CompletedTask; // each notification goes out after the previous one: order is kept

        public void Report(ExplainProgress value)
        {
            lock (this)
            {
                var last = value.Done >= value.Total;
                var patterns = value.Partial is FilterPatternsResult finished
                    ? new FilterPatternsPartialDto(finished.Patterns, Convert.ToBase64String(finished.GridPng)) : null;
                // Finished filter patterns are never dropped: the panel shows each batch once, when it is done.
                if (_ended || (_begun && !last && patterns is null && _sinceLast.ElapsedMilliseconds < 100)) return; // "end" ends a progress, once
                _ended = last && _begun;
                _sinceLast.Restart();
                var kind = !_begun ? "begin" : last ? "end" : "report";
                _begun = true;
                var notification = new ProgressParams(token, new WorkDoneProgress(kind, kind == "begin" ? value.Message : null, value.Message,
                    (int)Math.Round(100 * value.Fraction), value.Partial as SamplingPartialDto, patterns));
                _sent = _sent.ContinueWith(_ => rpc.NotifyWithParameterObjectAsync("$/progress", notification), TaskScheduler.Default).Unwrap();
                // The last report must reach the client before the request's answer does: wait for it to be written.
                if (kind == "end")
                {
                    try { _sent.Wait(TimeSpan.FromSeconds(5)); }
                    catch (AggregateException) { } // the client is gone: nothing to keep in order
                }
            }
        }
    }
}
