namespace CnnInterpret.Core.Explainers;

/// <summary>
/// The attribution methods, by name. The CLI's <c>explain --method</c>, the daemon's <c>daemon/methods</c> and
/// <c>explain/attribution</c>, metrics and the sanity check all read this list, so adding a method is one file (an
/// <see cref="IExplainer"/>) plus one line in <see cref="Default"/>.
/// </summary>
public sealed class ExplainerRegistry
{
    /// <summary>Every method the tool ships, in the order the panel lists them.</summary>
    public static ExplainerRegistry Default { get; } = new(
    [
        new GradCam(),
        new GradCamPlusPlus(),
        new Saliency(),
        new GradientXInput(),
        new IntegratedGradients(),
        new SmoothGrad(),
        new GuidedBackprop(),
        new GuidedGradCam(),
        new HiResCam(),
        new XGradCam(),
        new LayerCam(),
        new EigenCam(),
        new ScoreCam(),
        new Occlusion(),
        new Rise(),
        new LimeExplainer(),
        new KernelShapExplainer(),
        new GradientShapExplainer(),
    ]);

    private readonly IReadOnlyList<IExplainer> _explainers;

    public ExplainerRegistry(IReadOnlyList<IExplainer> explainers)
    {
        var duplicate = explainers.GroupBy(e => Key(e.Info.Name)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Two explainers are named '{duplicate.First().Info.Name}'.");
        _explainers = explainers;
    }

    public IReadOnlyList<IExplainer> All => _explainers;

    public IEnumerable<string> Names => _explainers.Select(e => e.Info.Name);

    /// <summary>The method called <paramref name="name"/> (case, '-' and '_' ignored: gradcam is grad-cam), or null.</summary>
    public IExplainer? Find(string name)
    {
        var key = Key(Aliases.GetValueOrDefault(name.Trim().ToLowerInvariant(), name));
        return _explainers.FirstOrDefault(e => Key(e.Info.Name) == key);
    }

    /// <summary>The method called <paramref name="name"/>; an unknown name is an InvalidArgument listing the methods.</summary>
    public IExplainer Get(string name) => Find(name) ?? throw new CnnInterpretException(ErrorKind.InvalidArgument,
        $"Unknown method '{(name.Length <= 40 ? name : name[..40] + "…")}'. Methods: {string.Join(", ", Names)}.", new { methods = Names.ToArray() });

    private static readonly Dictionary<string, string> Aliases = new() { ["grad-cam-plus-plus"] = BaseCam.GradCamPlusPlusMethod };

    private static string Key(string name) => new(name.ToLowerInvariant().Where(c => c is not ('-' or '_')).ToArray());
}
