namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Progress of a long explanation: <see cref="Done"/> of <see cref="Total"/> units (batches, steps or
/// samples). <see cref="Partial"/> may carry an intermediate result so a view can converge on screen.
/// </summary>
public sealed record ExplainProgress(int Done, int Total, string Message, object? Partial = null)
{
    public double Fraction => Total <= 0 ? 0 : (double)Done / Total;
}
