using CnnInterpret.Core;
using CnnInterpret.Core.Imaging;
using CnnInterpret.Core.Models;
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

    public static TheoryData<string> SafeTensorsFiles() => new(Directory.GetFiles(Findings("safetensors")).Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(SafeTensorsFiles))]
    public void SafeTensors_finding_is_refused_clearly(string file)
    {
        var e = Assert.Throws<CnnInterpretException>(() => SafeTensors.Load(Path.Combine(Findings("safetensors"), file)));
        Assert.Equal(ErrorKind.BadModelFile, e.Kind);
        Assert.Contains(file, e.Message);
        Assert.Contains("safetensors", e.Message);
    }

    public static TheoryData<string> Images() => new(Directory.GetFiles(Findings("image")).Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_finding_is_refused_clearly(string file)
    {
        // The limit the fuzz harness uses (tests/CnnInterpret.Fuzz/Program.cs).
        var e = Assert.Throws<CnnInterpretException>(() => ImageLoader.Load(Path.Combine(Findings("image"), file), new ImageLimits(MaxPixels: 4_000_000)));
        Assert.Equal(ErrorKind.BadImage, e.Kind);
        Assert.Contains(file, e.Message);
    }
}
