// What machine a program or native library is for, read from the first bytes of the file: ELF (Linux), PE
// (Windows) and Mach-O (macOS). The extension uses it to say "this daemon is for Windows x64" instead of
// letting the spawn fail obscurely; packaging and the .vsix test use it to check each platform's natives.
// No imports: it runs in the extension, in the tests and in scripts/natives.ts alike.

/** Node's names: `process.platform` and `process.arch`. */
export interface Target {
    /** `linux`, `win32`, `darwin` (or another of Node's platforms, for a host). */
    os: string;
    arch: string;
}

export interface BinaryKind extends Target {
    format: "elf" | "pe" | "macho";
    /** A .NET assembly (a PE with a CLR header). `os`/`arch` are then those of its ReadyToRun code, if any. */
    managed?: boolean;
    /** A .NET assembly with only IL (no ReadyToRun code): runs wherever .NET does. */
    anyCpu?: boolean;
    /** A universal Mach-O: every architecture it holds. */
    arches?: string[];
}

/** How many bytes {@link binaryKind} needs at most. */
export const HEADER_BYTES = 4096;

const ELF_MACHINES: Record<number, string> = { 3: "ia32", 40: "arm", 62: "x64", 183: "arm64", 243: "riscv64" };
const PE_MACHINES: Record<number, string> = { 0x14c: "ia32", 0x1c4: "arm", 0x8664: "x64", 0xaa64: "arm64" };
const MACHO_CPUS: Record<number, string> = { 0x7: "ia32", 0x01000007: "x64", 0xc: "arm", 0x0100000c: "arm64" };
/** ReadyToRun assemblies for other systems XOR the PE machine with one of these (Windows: 0). */
const R2R_OS: [number, string][] = [[0x7b79, "linux"], [0x4644, "darwin"]];

/** The kind of binary `header` (the file's first {@link HEADER_BYTES} bytes or fewer) starts, or undefined. */
export function binaryKind(header: Uint8Array): BinaryKind | undefined {
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const u32 = (at: number, little = true) => (at + 4 <= view.byteLength ? view.getUint32(at, little) : undefined);
    const u16 = (at: number) => (at + 2 <= view.byteLength ? view.getUint16(at, true) : undefined);

    if (u32(0, false) === 0x7f454c46) {
        const machine = u16(18);
        return { format: "elf", os: "linux", arch: (machine === undefined ? undefined : ELF_MACHINES[machine]) ?? `elf-machine-${machine}` };
    }
    const magic = u32(0);
    if (magic === 0xfeedfacf || magic === 0xfeedface) {
        const cpu = u32(4) ?? 0;
        return { format: "macho", os: "darwin", arch: MACHO_CPUS[cpu] ?? `macho-cpu-${cpu.toString(16)}` };
    }
    if (u32(0, false) === 0xcafebabe) {
        const count = u32(4, false) ?? 0;
        if (count === 0 || count > 8) return undefined; // Java class files share the magic
        const arches: string[] = [];
        for (let i = 0; i < count; i++) {
            const cpu = u32(8 + i * 20, false);
            if (cpu !== undefined) arches.push(MACHO_CPUS[cpu] ?? `macho-cpu-${cpu.toString(16)}`);
        }
        return { format: "macho", os: "darwin", arch: arches.join("+"), arches };
    }
    if (u16(0) === 0x5a4d) {
        const pe = u32(0x3c);
        if (pe === undefined || u32(pe, false) !== 0x50450000) return undefined;
        const machine = u16(pe + 4) ?? 0;
        const optional = pe + 24;
        const magic32 = u16(optional);
        const directories = optional + (magic32 === 0x20b ? 112 : 96);
        const clr = u32(directories + 14 * 8) ?? 0;
        if (clr === 0) return { format: "pe", os: "win32", arch: PE_MACHINES[machine] ?? `pe-machine-${machine.toString(16)}` };
        // A .NET assembly. Only ReadyToRun code (a ManagedNativeHeader in its CLR header) is tied to a system; its
        // machine is XORed with the system's constant (none for Windows). IL alone runs wherever .NET does.
        let readyToRun = false;
        const sections = optional + (u16(pe + 20) ?? 0);
        for (let i = 0; i < (u16(pe + 6) ?? 0); i++) {
            const at = sections + i * 40;
            const start = u32(at + 12) ?? 0;
            if (clr < start || clr >= start + Math.max(u32(at + 8) ?? 0, u32(at + 16) ?? 0)) continue;
            readyToRun = (u32(clr - start + (u32(at + 20) ?? 0) + 68) ?? 0) > 0; // ManagedNativeHeader's size
            break;
        }
        if (!readyToRun) return { format: "pe", os: "win32", arch: PE_MACHINES[machine] ?? "ia32", managed: true, anyCpu: true };
        if (PE_MACHINES[machine] !== undefined) return { format: "pe", os: "win32", arch: PE_MACHINES[machine], managed: true };
        for (const [xor, os] of R2R_OS) {
            const arch = PE_MACHINES[machine ^ xor];
            if (arch) return { format: "pe", os, arch, managed: true };
        }
        return { format: "pe", os: "win32", arch: `pe-machine-${machine.toString(16)}`, managed: true };
    }
    return undefined;
}

/** "linux-x64", as VS Code names platform-specific extensions' targets. */
export function targetName(t: Target): string {
    return `${t.os}-${t.arch}`;
}

/** In words, for messages: "Windows x64". */
export function describeTarget(t: Target): string {
    const os = ({ linux: "Linux", win32: "Windows", darwin: "macOS" } as Record<string, string>)[t.os] ?? t.os;
    const arch = t.os === "darwin" && t.arch === "arm64" ? "arm64 (Apple silicon)" : t.arch;
    return `${os} ${arch}`;
}

/**
 * Whether a program for `binary` runs on `host`: the same system and architecture, or an x64 program on an
 * arm64 Windows or Mac (both emulate x64: Windows 11 on Arm and Rosetta 2).
 */
export function runsOn(binary: BinaryKind, host: Target): boolean {
    if (binary.managed && binary.anyCpu) return true;
    if (binary.os !== host.os) return false;
    const arches = binary.arches ?? [binary.arch];
    if (arches.includes(host.arch)) return true;
    return host.arch === "arm64" && (host.os === "win32" || host.os === "darwin") && arches.includes("x64");
}
