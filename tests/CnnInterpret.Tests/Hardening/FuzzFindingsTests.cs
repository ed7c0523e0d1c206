using CnnInterpret.Core;
using CnnInterpret.Core.Models.Checkpoints;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Hardening;

/// <summary>
/// Inputs that once crashed a parser, found by scripts/fuzz.sh (SharpFuzz + AFL++) and kept as regression tests:
/// each must now be refused with a clear error, never another exception.
/// </summary>
public sealed class FuzzFindingsTests
{
    private static string Findings(string target) => Path.Combine(Repo.Root, "tests", "corpus", "fuzz-findings", target);

    public static TheoryData<string> Checkpoints() => new(Directory.GetFiles(Findings("checkpoint")).Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Checkpoint_finding_is_refused_clearly(string file)
    {
        var e = Assert.Throws<CnnInterpretException>(() => TorchCheckpoint.Load(Path.Combine(Findings("checkpoint"), file)));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains(file, e.Message);
    }
}
