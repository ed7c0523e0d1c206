using System.Globalization;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// A method's options, checked against what it declares (<see cref="ExplainerInfo.Options"/>): every name known,
/// every value of the right type and in range, defaults filled in. Values arrive as text (CLI flags; the daemon turns
/// JSON numbers and booleans into their invariant text), so both front ends share one parser and one set of errors.
/// </summary>
public sealed class ExplainerOptions
{
    private readonly Dictionary<string, object> _values;

    private ExplainerOptions(Dictionary<string, object> values) => _values = values;

    /// <summary>The values in use, defaults included (for result.json and the daemon's answer).</summary>
    public IReadOnlyDictionary<string, object> Values => _values;

    public int Int(string name) => (int)_values[name];
    public double Number(string name) => (double)_values[name];
    public string Choice(string name) => (string)_values[name];
    public bool Flag(string name) => (bool)_values[name];

    /// <summary>The defaults of <paramref name="info"/>'s options.</summary>
    public static ExplainerOptions Defaults(ExplainerInfo info) => Parse(info, new Dictionary<string, string?>());

    /// <summary>Checks <paramref name="given"/> against <paramref name="info"/>; an unknown name or a bad value is an InvalidArgument naming what is allowed.</summary>
    public static ExplainerOptions Parse(ExplainerInfo info, IReadOnlyDictionary<string, string?> given)
    {
        foreach (var name in given.Keys)
            if (info.Options.All(o => o.Name != name))
                throw new CnnInterpretException(ErrorKind.InvalidArgument,
                    $"{info.DisplayName} has no option '{name}'. " + (info.Options.Count == 0 ? "It takes none." : $"Its options: {Describe(info)}."),
                    new { options = info.Options.Select(o => o.Name).ToArray() });
        var values = new Dictionary<string, object>();
        foreach (var option in info.Options)
            values[option.Name] = given.TryGetValue(option.Name, out var text) && text is not null ? Read(info, option, text) : option.Default;
        return new ExplainerOptions(values);
    }

    private static object Read(ExplainerInfo info, ExplainerOption option, string text)
    {
        var culture = CultureInfo.InvariantCulture;
        object value = option.Type switch
        {
            OptionType.Integer when int.TryParse(text, NumberStyles.AllowLeadingSign, culture, out var i) => i,
            OptionType.Number when double.TryParse(text, NumberStyles.Float, culture, out var d) && double.IsFinite(d) => d,
            OptionType.Boolean when bool.TryParse(text, out var b) => b,
            OptionType.Choice when option.Choices!.FirstOrDefault(c => c.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } c => c,
            _ => throw Invalid(info, option, $"'{Shorten(text)}'"),
        };
        var number = value switch { int i => i, double d => d, _ => (double?)null };
        if (number is { } n && (n < option.Minimum || n > option.Maximum))
            throw Invalid(info, option, n.ToString(culture));
        return value;
    }

    private static CnnInterpretException Invalid(ExplainerInfo info, ExplainerOption option, string got) =>
        new(ErrorKind.InvalidArgument, $"{info.DisplayName}'s option '{option.Name}' must be {Allowed(option)}; got {got}.");

    /// <summary>What an option accepts, in words: "a whole number from 1 to 512", "one of black, blur, mean".</summary>
    public static string Allowed(ExplainerOption option)
    {
        var range = (option.Minimum, option.Maximum) switch
        {
            ({ } lo, { } hi) => $" from {lo.ToString(CultureInfo.InvariantCulture)} to {hi.ToString(CultureInfo.InvariantCulture)}",
            ({ } lo, null) => $" of at least {lo.ToString(CultureInfo.InvariantCulture)}",
            (null, { } hi) => $" of at most {hi.ToString(CultureInfo.InvariantCulture)}",
            _ => "",
        };
        return option.Type switch
        {
            OptionType.Integer => "a whole number" + range,
            OptionType.Number => "a number" + range,
            OptionType.Boolean => "true or false",
            _ => "one of " + string.Join(", ", option.Choices!),
        };
    }

    /// <summary>"steps (a whole number from 1 to 1024, default 64), baseline (one of black, blur, mean, default black)".</summary>
    public static string Describe(ExplainerInfo info) =>
        string.Join(", ", info.Options.Select(o => $"{o.Name} ({Allowed(o)}, default {Format(o.Default)})"));

    public static string Format(object value) => value switch
    {
        double d => d.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
