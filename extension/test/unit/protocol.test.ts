import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { Methods } from "../../src/protocol";
import { TABS } from "../../src/messages";
import { repoRoot } from "./support";

const protocolCs = fs.readFileSync(path.join(repoRoot, "src/CnnInterpret.Daemon/Protocol.cs"), "utf8");

/** A parameter list split at its own commas, not those inside generic arguments or attributes. */
function splitTopLevel(list: string): string[] {
    const parts: string[] = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < list.length; i++) {
        const c = list[i];
        if (c === "<" || c === "(" || c === "[") depth++;
        else if (c === ">" || c === ")" || c === "]") depth--;
        else if (c === "," && depth === 0) {
            parts.push(list.slice(start, i));
            start = i + 1;
        }
    }
    parts.push(list.slice(start));
    return parts;
}

describe("protocol.ts mirrors Protocol.cs", () => {
    it("has every method the daemon defines, and no other", () => {
        const daemon = [...protocolCs.matchAll(/public const string \w+ = "([\w$]+\/\w+)";/g)].map((m) => m[1]).sort();
        assert.ok(daemon.length >= 5, "no methods found in Protocol.cs");
        assert.deepEqual(Object.values(Methods).sort(), daemon);
    });

    it("mirrors the registry's records field for field (daemon/methods, explain/attribution)", () => {
        const protocolTs = fs.readFileSync(path.join(repoRoot, "extension/src/protocol.ts"), "utf8");
        // C#'s positional record parameters, camelCased as the daemon's JSON names them.
        const csFields = (record: string) => {
            const m = new RegExp(`public sealed record ${record}\\(([^;{]*?)\\)\\s*(?:;|\\{|:)`, "s").exec(protocolCs);
            assert.ok(m, `record ${record} not found in Protocol.cs`);
            return splitTopLevel(m[1]!)
                .map((p) => /(\w+)(?:\s*=[^,]*)?\s*$/.exec(p.replace(/\[property:[^\]]*\]/g, "").trim())![1]!)
                .map((n) => n.charAt(0).toLowerCase() + n.slice(1))
                .sort();
        };
        const tsFields = (iface: string) => {
            const m = new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`).exec(protocolTs);
            assert.ok(m, `interface ${iface} not found in protocol.ts`);
            return [...m[1]!.matchAll(/^\s{4}(\w+)\??:/gm)].map((f) => f[1]!).sort();
        };
        for (const [cs, ts] of [
            ["MethodOptionDto", "MethodOption"],
            ["MethodDto", "MethodInfo"],
            ["DaemonMethodsResult", "DaemonMethodsResult"],
            ["AttributionParams", "AttributionParams"],
            ["AttributionResultDto", "AttributionResult"],
            ["MetricsParams", "MetricsParams"],
            ["SanityParams", "SanityParams"],
        ] as const) {
            assert.deepEqual(tsFields(ts), csFields(cs), `${ts} mirrors ${cs}`);
        }
    });

    it("each tab of the panel calls a method of the protocol", () => {
        for (const tab of TABS) assert.ok((Object.values(Methods) as string[]).includes(tab.method), tab.method);
    });
});
