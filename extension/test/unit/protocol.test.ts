import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { Methods } from "../../src/protocol";
import { TABS } from "../../src/messages";
import { repoRoot } from "./support";

const protocolCs = fs.readFileSync(path.join(repoRoot, "src/CnnInterpret.Daemon/Protocol.cs"), "utf8");

describe("protocol.ts mirrors Protocol.cs", () => {
    it("has every method the daemon defines, and no other", () => {
        const daemon = [...protocolCs.matchAll(/public const string \w+ = "([\w$]+\/\w+)";/g)].map((m) => m[1]).sort();
        assert.ok(daemon.length >= 5, "no methods found in Protocol.cs");
        assert.deepEqual(Object.values(Methods).sort(), daemon);
    });

    it("each tab of the panel calls a method of the protocol", () => {
        for (const tab of TABS) assert.ok((Object.values(Methods) as string[]).includes(tab.method), tab.method);
    });
});
