// `npm run protocol`: writes extension/src/protocol.generated.ts from the daemon's protocol records.
// `--check`: writes nothing; exits 1 when the file differs from what would be written.
using CnnInterpret.ProtocolTypeScript;

var root = Directory.GetCurrentDirectory();
while (!File.Exists(Path.Combine(root, "CnnInterpret.sln")))
    root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("Run this inside the repository (no CnnInterpret.sln above the current folder).");
var path = Path.Combine(root, TypeScriptProtocol.FileName);
var text = TypeScriptProtocol.Generate();
if (args.Contains("--check"))
{
    var current = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "";
    if (current == text) return 0;
    Console.Error.WriteLine($"{TypeScriptProtocol.FileName} is out of date: run `{TypeScriptProtocol.Command}`.");
    return 1;
}
File.WriteAllText(path, text);
Console.Error.WriteLine($"Wrote {path}");
return 0;
