import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { Methods } from "../../src/protocol";
import { TABS } from "../../src/messages";
import { repoRoot } from "./support";

const protocolCs = fs.readFileSync(path.join(repoRoot, "src/CnnInterpret.Daemon/Protocol.cs"), "utf8");

describe("protocol.ts and Protocol.cs", () => {
    it("has every method the daemon defines, and no other", () => {
        const daemon = [...protocolCs.matchAll(/public const string \w+ = "([\w$]+\/\w+)";/g)].map((m) => m[1]).sort();
        assert.ok(daemon.length >= 5, "no methods found in Protocol.cs");
        assert.deepEqual(Object.values(Methods).sort(), daemon);
    });

    it("is generated from it: protocol.ts only re-exports the generated types and adds the client's own", () => {
        // That the generated file is current is a .NET test (ProtocolTypeScriptTests): it needs the daemon's assembly.
        const generated = fs.readFileSync(path.join(repoRoot, "extension/src/protocol.generated.ts"), "utf8");
        assert.match(generated, /^\/\/ GENERATED from the daemon's protocol/);
        const protocolTs = fs.readFileSync(path.join(repoRoot, "extension/src/protocol.ts"), "utf8");
        assert.match(protocolTs, /export \* from "\.\/protocol\.generated";/);
        assert.doesNotMatch(protocolTs, /export (interface|const) /, "a protocol type written by hand: declare it in Protocol.cs and run `npm run protocol`");
    });

    it("each tab of the panel calls a method of the protocol", () => {
        for (const tab of TABS) assert.ok((Object.values(Methods) as string[]).includes(tab.method), tab.method);
    });
});
