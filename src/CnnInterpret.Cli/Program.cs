using CnnInterpret.Cli;
return Cli.Run(args);
