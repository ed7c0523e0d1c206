import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeMemory, memoryBudgetEnv } from "../../src/memory";

describe("describeMemory: the status bar's memory line", () => {
    it("says the resident size, the budget and the loaded models", () => {
        assert.equal(
            describeMemory({ residentBytes: 1_012_400_000, memoryBudgetBytes: 2048 * 1024 * 1024, loadedModels: ["fashion-vgg", "vgg16"] }),
            "memory 1,012 MB of a 2,147 MB budget · models: fashion-vgg, vgg16",
        );
    });

    it("says when no model is loaded, and nothing for a daemon that does not report memory", () => {
        assert.equal(describeMemory({ residentBytes: 250_000_000, loadedModels: [] }), "memory 250 MB · no model loaded");
        assert.equal(describeMemory({}), "");
        assert.equal(describeMemory(undefined), "");
    });
});

describe("memoryBudgetEnv: cnnInterpret.memoryBudgetMiB for the daemon", () => {
    it("passes a whole number of at least 64 MiB and nothing else", () => {
        assert.deepEqual(memoryBudgetEnv(4096), { CNN_INTERPRET_MEMORY_BUDGET_MIB: "4096" });
        assert.deepEqual(memoryBudgetEnv(undefined), {});
        assert.deepEqual(memoryBudgetEnv(32), {});
        assert.deepEqual(memoryBudgetEnv(100.5), {});
    });
});
