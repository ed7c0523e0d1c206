import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitOffers, mirrorUrl, modelLabel } from "../../src/models";
import type { ModelSummary } from "../../src/protocol";

const summary = (id: string, displayName: string, inputShape: number[], state: string, weightsFile?: string): ModelSummary => ({
    id, displayName, description: "", inputShape, classCount: 10, loaded: false, state, ...(weightsFile ? { weightsFile } : {}),
});
const models = [
    summary("fashion-vgg", "Fashion VGG", [1, 28, 28], "built in"),
    summary("resnet18-imagenet", "ResNet-18 (ImageNet)", [3, 224, 224], "built in"),
    summary("vgg16", "VGG16 (ImageNet)", [3, 224, 224], "weights missing", "vgg16-397923af.pth"),
];

describe("fitOffers", () => {
    it("names the daemon's suggestions and offers to fetch the RGB models whose weights are missing", () => {
        assert.deepEqual(fitOffers({ suitable: false, reason: "A colour photo.", suggestions: ["resnet18-imagenet"] }, models), {
            use: [{ id: "resnet18-imagenet", displayName: "ResNet-18 (ImageNet)" }],
            fetch: [{ id: "vgg16", displayName: "VGG16 (ImageNet)" }],
        });
    });

    it("keeps a suggestion the list does not know, by its id, and offers no fetch once the weights are here", () => {
        const fetched = models.map((m) => (m.id === "vgg16" ? { ...m, state: "ready" } : m));
        assert.deepEqual(fitOffers({ suitable: false, suggestions: ["vgg16", "new-model"] }, fetched), {
            use: [{ id: "vgg16", displayName: "VGG16 (ImageNet)" }, { id: "new-model", displayName: "new-model" }],
            fetch: [],
        });
    });
});

describe("mirrorUrl", () => {
    const vgg16 = models[2]!;
    it("is no url (the published address) when the setting is empty", () => {
        for (const setting of [undefined, "", "   "]) assert.equal(mirrorUrl(setting, vgg16), undefined);
    });

    it("appends the file name to a folder and uses any other address as is", () => {
        assert.equal(mirrorUrl(" https://mirror.example/torch/ ", vgg16), "https://mirror.example/torch/vgg16-397923af.pth");
        assert.equal(mirrorUrl("https://mirror.example/v.pth", vgg16), "https://mirror.example/v.pth");
        assert.equal(mirrorUrl("https://mirror.example/torch/", {}), "https://mirror.example/torch/");
    });
});

describe("modelLabel", () => {
    it("shows a built-in id as it is", () => {
        assert.equal(modelLabel("fashion-vgg"), "fashion-vgg");
    });

    it("shows the file's name for models from files, and says when settings were given", () => {
        assert.equal(modelLabel("vgg16@/home/me/weights/vgg16-397923af.pth"), "vgg16 · vgg16-397923af.pth");
        assert.equal(modelLabel("C:\\models\\net.onnx#resnet18"), "net.onnx");
        assert.equal(modelLabel("/w/resnet18-5.onnx?settings=3f2a9c"), "resnet18-5.onnx (own settings)");
        assert.equal(modelLabel("vgg16@/w/a#b.pth?settings=1"), "vgg16 · a#b.pth (own settings)");
        assert.equal(modelLabel("/home/me@work/net.onnx"), "net.onnx");
    });
});
