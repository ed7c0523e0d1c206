using CnnInterpret.Bench;

// `npm run bench -- ARGS` and `cnn-interpret bench ARGS`: the CLI's command line, options and exit codes.
return Cli.Guarded(() =>
{
    var line = new CommandLine(args);
    if (line.Flag("help"))
    {
        Console.Out.Write(Cli.Help);
        return 0;
    }
    Cli.SetMemoryBudget(line);
    return Bench.Run(line, line.Positionals);
});
