// Bundles the extension (src/extension.ts → dist/extension.js, vscode external), the panel's webview
// (src/webview/main.ts → dist/panel.js, for the browser), the packaging helper
// (scripts/natives-cli.ts → out/scripts/natives.js, run by scripts/package.sh) and, with --tests, the unit,
// .vsix, webview and end-to-end tests (test/**/*.test.ts → out/test/**, for node --test).
import * as esbuild from "esbuild";
import { readdirSync } from "node:fs";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");
const tests = process.argv.includes("--tests");

const common = { bundle: true, platform: "node", target: "node20", format: "cjs", logLevel: "warning", sourcemap: !production };

const builds = [
    { ...common, entryPoints: ["src/extension.ts"], outfile: "dist/extension.js", external: ["vscode"], minify: production, sourcesContent: false },
    { ...common, entryPoints: ["src/webview/main.ts"], outfile: "dist/panel.js", platform: "browser", target: "es2022", format: "iife", minify: production, sourcesContent: false },
    { ...common, entryPoints: ["scripts/natives-cli.ts"], outfile: "out/scripts/natives.js" },
];
if (tests) {
    for (const kind of ["unit", "vsix", "webview", "e2e"]) {
        const entryPoints = readdirSync(`test/${kind}`).filter((f) => f.endsWith(".test.ts")).map((f) => `test/${kind}/${f}`);
        builds.push({ ...common, entryPoints, outdir: `out/test/${kind}`, external: ["vscode", "playwright-core"] });
    }
}

if (watch) {
    for (const options of builds) await (await esbuild.context(options)).watch();
} else {
    await Promise.all(builds.map((options) => esbuild.build(options)));
}
