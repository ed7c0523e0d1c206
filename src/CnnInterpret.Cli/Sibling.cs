using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using CnnInterpret.Core;

namespace CnnInterpret.Cli;

/// <summary>
/// <c>serve</c> and <c>bench</c> are programs of their own: the daemon (the CLI calls only Core, so it does not link
/// the daemon) and the benchmarks. Each runs as a child with this process's stdin, stdout and stderr, so the bytes
/// are the child's own, and its exit code is the CLI's.
/// </summary>
public static class Sibling
{
    public static readonly (string Project, string Assembly) Daemon = ("CnnInterpret.Daemon", "cnn-interpret-daemon");
    public static readonly (string Project, string Assembly) Bench = ("CnnInterpret.Bench", "cnn-interpret-bench");

    /// <summary>Runs <paramref name="program"/> with <paramref name="args"/> until it exits.</summary>
    public static int Run((string Project, string Assembly) program, string[] args)
    {
        var dll = Find(program);
        // Started the way we were: by the dotnet host (dotnet cnn-interpret.dll), else by the program's app host.
        var host = Environment.ProcessPath;
        var underDotnet = host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet";
        var appHost = Path.ChangeExtension(dll, OperatingSystem.IsWindows() ? ".exe" : null);
        var start = !underDotnet && File.Exists(appHost) ? new ProcessStartInfo(appHost, args)
            : new ProcessStartInfo(underDotnet ? host! : "dotnet", [dll, .. args]);
        start.UseShellExecute = false;
        using var child = Process.Start(start) ?? throw new CnnInterpretException(ErrorKind.Internal, $"{dll} did not start.");
        // Ctrl+C and Ctrl+\ reach the terminal's whole process group: the child handles them (the daemon cancels what
        // is running, then exits) and we wait for it. A SIGTERM or SIGHUP sent to us alone is passed on.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => PassOn(c, child, "TERM"));
        using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => PassOn(c, child, "HUP"));
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>
    /// The program's build in its own project, of the configuration the CLI runs from: where scripts/daemon.sh runs
    /// the daemon from (src/PROJECT/bin/CONFIGURATION/TFM/ASSEMBLY.dll; the CLI is src/CnnInterpret.Cli/bin/Release/net10.0/).
    /// </summary>
    private static string Find((string Project, string Assembly) program)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var (tfm, configuration, src) = (here.Name, here.Parent?.Name, here.Parent?.Parent?.Parent?.Parent?.FullName);
        var dll = src is null || configuration is null ? null : Path.Combine(src, program.Project, "bin", configuration, tfm, program.Assembly + ".dll");
        return dll is not null && File.Exists(dll) ? dll
            : throw new CnnInterpretException(ErrorKind.Internal,
                $"{program.Assembly}.dll was not found{(dll is null ? "" : $" at {dll}")}: build the solution (bash scripts/build.sh).");
    }

    /// <summary>Sends the signal to the child (on Windows, where there is no such signal to send, ends it) and lets it exit first.</summary>
    private static void PassOn(PosixSignalContext context, Process child, string signal)
    {
        context.Cancel = true;
        if (child.HasExited) return;
        try
        {
            if (OperatingSystem.IsWindows()) child.Kill(entireProcessTree: true);
            else Process.Start("kill", ["-s", signal, child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            child.Kill(entireProcessTree: true); // no kill(1) on PATH, or the child is gone already
        }
    }
}
