using CnnInterpret.Core;

namespace CnnInterpret.Cli;

/// <summary>
/// The parsed command line: positionals in order, <c>--name value</c> options and boolean <c>--flags</c>.
/// Kept this small on purpose: every command's options are plain strings read through the helpers below.
/// </summary>
public sealed class CommandLine
{
    private static readonly HashSet<string> Flags = ["json", "raw", "help", "shared-scale", "quiet"];
    private readonly Dictionary<string, string> _options = new();
    private readonly HashSet<string> _flags = new();
    private readonly HashSet<string> _read = new();

    public CommandLine(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (arg == "--")
            {
                Positionals.AddRange(list.Skip(i + 1));
                break;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                Positionals.Add(arg);
                continue;
            }
            var name = arg[2..];
            var eq = name.IndexOf('=');
            if (eq >= 0) _options[name[..eq]] = name[(eq + 1)..];
            else if (Flags.Contains(name)) _flags.Add(name);
            else if (i + 1 < list.Count) _options[name] = list[++i];
            else throw Usage($"Option --{name} needs a value.");
        }
    }

    public List<string> Positionals { get; } = new();

    public bool Flag(string name)
    {
        _read.Add(name);
        return _flags.Contains(name);
    }

    public string? Option(string name)
    {
        _read.Add(name);
        return _options.GetValueOrDefault(name);
    }

    /// <summary>An option's value without counting it as read (for options two meanings share by value).</summary>
    public string? Peek(string name) => _options.GetValueOrDefault(name);

    public string Require(string name, string what) =>
        Option(name) ?? throw Usage($"Missing --{name} ({what}).");

    public int? Int(string name)
    {
        var value = Option(name);
        if (value is null) return null;
        return int.TryParse(value, out var n) ? n : throw Usage($"--{name} must be a whole number, not '{value}'.");
    }

    public long? Long(string name)
    {
        var value = Option(name);
        if (value is null) return null;
        return long.TryParse(value, out var n) ? n : throw Usage($"--{name} must be a whole number, not '{value}'.");
    }

    /// <summary>Refuses options the command does not know, so a typo is not silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Concat(_flags).Where(n => !_read.Contains(n)).ToList();
        if (unknown.Count > 0) throw Usage($"Unknown option{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown.Select(u => "--" + u))}. See 'cnn-interpret help'.");
    }

    public static CnnInterpretException Usage(string message) => new(ErrorKind.InvalidArgument, message);
}
