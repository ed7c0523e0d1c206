using CnnInterpret.Daemon;
return await DaemonHost.RunAsync(args);
