// The daemon's memory as the status bar's tooltip shows it (from daemon/info), kept free of VS Code for unit tests.
import type { DaemonInfoResult } from "./protocol";

const mb = (bytes: number): string => `${Math.round(bytes / 1e6).toLocaleString("en-US")} MB`;

/** "memory 1,012 MB of a 2,147 MB budget · models: fashion-vgg, vgg16", or "" when the daemon did not say (an older daemon). */
export function describeMemory(info: Pick<DaemonInfoResult, "residentBytes" | "memoryBudgetBytes" | "loadedModels"> | undefined): string {
    if (info?.residentBytes === undefined) return "";
    const budget = info.memoryBudgetBytes ? ` of a ${mb(info.memoryBudgetBytes)} budget` : "";
    const models = info.loadedModels && info.loadedModels.length > 0 ? ` · models: ${info.loadedModels.join(", ")}` : " · no model loaded";
    return `memory ${mb(info.residentBytes)}${budget}${models}`;
}

/** The budget setting as the daemon's environment variable: a whole number of MiB (at least 64), else nothing. */
export function memoryBudgetEnv(mib: number | undefined): Record<string, string> {
    return mib !== undefined && Number.isInteger(mib) && mib >= 64 ? { CNN_INTERPRET_MEMORY_BUDGET_MIB: String(mib) } : {};
}
