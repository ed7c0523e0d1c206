using System.Runtime;
using System.Runtime.InteropServices;

namespace CnnInterpret.Core.Memory;

/// <summary>
/// This process's memory as the OS counts it, and giving memory back to it. Freed memory does not leave the process
/// by itself: .NET keeps its large-object heap until a compacting collection, and glibc keeps freed native blocks
/// (libtorch's tensors) in its arenas until <c>malloc_trim</c>. A daemon that lives all day calls <see cref="GiveBack"/>
/// after heavy work, so its resident size returns to what the models and caches hold.
/// </summary>
public static partial class ProcessMemory
{
    /// <summary>Resident set size in bytes (VmRSS on Linux; the working set elsewhere).</summary>
    public static long ResidentBytes => Status("VmRSS:") ?? Environment.WorkingSet;

    /// <summary>The highest resident size since start or the last <see cref="ResetPeak"/> (VmHWM; null where the OS does not say).</summary>
    public static long? PeakBytes => Status("VmHWM:");

    /// <summary>Reads one "Name: N kB" line of /proc/PID/status (this process by default); null when there is none.</summary>
    public static long? Status(string field, int? processId = null)
    {
        var path = $"/proc/{(processId is { } pid ? pid.ToString(System.Globalization.CultureInfo.InvariantCulture) : "self")}/status";
        if (!OperatingSystem.IsLinux() || !File.Exists(path)) return null;
        try
        {
            foreach (var line in File.ReadLines(path))
                if (line.StartsWith(field, StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), out var kb))
                    return kb * 1024;
        }
        catch (IOException) { } // the process ended
        return null;
    }

    /// <summary>Starts a new peak (VmHWM) for a process: writing 5 to /proc/PID/clear_refs. False where that is not possible.</summary>
    public static bool ResetPeak(int? processId = null)
    {
        try
        {
            File.WriteAllText($"/proc/{(processId is { } pid ? pid.ToString(System.Globalization.CultureInfo.InvariantCulture) : "self")}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Returns freed memory to the OS: a compacting full collection (which also runs the finalizers of tensors nobody
    /// disposed) and then glibc's <c>malloc_trim</c>. Costs tens of milliseconds: call it after heavy work, not per click.
    /// </summary>
    public static void GiveBack()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        TrimNativeHeap();
    }

    /// <summary>glibc's malloc_trim(0): unmaps the free pages of every arena. Nothing on other C libraries.</summary>
    public static void TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { _ = MallocTrim(0); } // 1 when it released memory, 0 when there was none: either is fine
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // musl, or no glibc
    }

    /// <summary>
    /// Caps glibc's malloc arenas: by default it makes up to 8 per core, each keeping its own freed memory, and libtorch's
    /// worker threads spread tensors over them. Two arenas keep the freed memory in few places, where trimming finds it.
    /// Call once at start, before the worker threads allocate.
    /// </summary>
    public static void LimitNativeArenas(int arenas = 2)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int arenaMax = -8; // M_ARENA_MAX in malloc.h
        try { _ = MallOpt(arenaMax, arenas); } // 0 when refused: malloc then keeps its default, which only costs memory
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
