using CnnInterpret.Core;
using CnnInterpret.Core.Models;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Models;

/// <summary>A weights path that does not exist is the user's mistake, said as such (it was an internal error).</summary>
public sealed class MissingWeightsTests
{
    [Theory]
    [InlineData("no-such-folder/vgg16.pth")]
    [InlineData("no-such-weights.pth")]
    public void A_missing_weights_file_is_a_bad_model_file_naming_it(string weights)
    {
        using var registry = new ModelRegistry(Repo.Models, Repo.TempDir());
        var error = Assert.Throws<CnnInterpretException>(() => registry.Register("vgg16", weights));
        Assert.Equal(ErrorKind.BadModelFile, error.Kind);
        Assert.Contains("There is no weights file", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(weights), error.Message, StringComparison.Ordinal);
    }
}
