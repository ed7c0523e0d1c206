using CnnInterpret.ProtocolTypeScript;
using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Daemon;

/// <summary>The extension's protocol types are generated from the daemon's records, and the checked-in file is the one generated now.</summary>
public sealed class ProtocolTypeScriptTests
{
    private static readonly Lazy<string> Generated = new(TypeScriptProtocol.Generate);

    [Fact]
    public void The_checked_in_TypeScript_is_what_the_records_generate_now()
    {
        var path = Path.Combine(Repo.Root, TypeScriptProtocol.FileName);
        var expected = Generated.Value.Split('\n');
        var actual = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n").Split('\n') : [];
        var line = Enumerable.Range(0, Math.Max(expected.Length, actual.Length))
            .FirstOrDefault(i => i >= expected.Length || i >= actual.Length || expected[i] != actual[i], -1);
        if (line < 0) return;
        Assert.Fail($"{TypeScriptProtocol.FileName} is not what src/CnnInterpret.Daemon/Protocol.cs generates now " +
                    $"(line {line + 1}: expected \"{expected.ElementAtOrDefault(line)}\", found \"{actual.ElementAtOrDefault(line)}\"). " +
                    $"Regenerate it: `{TypeScriptProtocol.Command}` at the repository root.");
    }

    [Fact]
    public void Members_are_the_json_ones_optional_when_nullable_or_defaulted()
    {
        var ts = Generated.Value;
        Assert.Contains("export interface LimeParams {", ts); // Dto-less names; every handler's params and result
        Assert.Contains("\n    image: string;\n", ts);          // required: neither nullable nor defaulted
        Assert.Contains("\n    target?: Target;\n", ts);        // a JsonElement named by [JsonValue]
        Assert.Contains("\n    fbaseline: number;\n", ts);      // [JsonPropertyName] wins over camelCase
        Assert.Contains("\n    isSpatial: boolean;\n", ts);     // a computed property is written too
        Assert.Contains("\n    dtype?: string;\n", ts);         // a default makes a member optional
        Assert.Contains("\n    weightsMissing: 1008,\n", ts);   // every ErrorKind
        Assert.Contains("\n    \"explain/sanity\": [SanityParams, SanityResult];\n", ts);
        Assert.Contains("export interface WorkDoneProgress {", ts);
        Assert.DoesNotContain("Dto", ts);
    }
}
