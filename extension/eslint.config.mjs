// ESLint 9 flat config: typescript-eslint's strictest type-checked presets over the extension, its webview
// modules, scripts and tests. `npm run lint` (run by `npm test`) fails on any finding.
import eslint from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
    {
        // Built output, installed packages and the daemon copied in for packaging. media/ holds the webview's plain
        // script and its declarations (type-checked by media/tsconfig.json) until they move to src/webview/.
        ignores: ["out/**", "dist/**", "node_modules/**", "daemon/**", ".vscode-test/**", "media/**"],
    },
    eslint.configs.recommended,
    {
        files: ["**/*.ts"],
        extends: [tseslint.configs.strictTypeChecked, tseslint.configs.stylisticTypeChecked],
        languageOptions: {
            // Each file is checked with the tsconfig.json nearest to it (test/e2e has its own; src/webview/ may too).
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        rules: {
            // node:test's test() and describe() return promises that the runner itself awaits.
            "@typescript-eslint/no-floating-promises": ["error", {
                allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] }],
            }],
            // A number prints as itself in a message; other non-strings still need an explicit conversion.
            "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
            // `() => x.dispose()` as an event or dispose callback is a statement; VS Code discards what it returns.
            "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
            // An empty setting or environment variable means "not set": `||` falls back on it on purpose.
            "@typescript-eslint/prefer-nullish-coalescing": ["error", { ignorePrimitives: { string: true } }],
            // `const { png: _png, ...rest } = x` is how a field is left out of a copy.
            "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
            // The panel's saved state and a sidecar are plain records keyed by tab, method or field name, stored as
            // JSON: removing a key is how an entry goes back to its default.
            "@typescript-eslint/no-dynamic-delete": "off",
        },
    },
    {
        // These read what the daemon answers, from whichever daemon the user points at (cnnInterpret.daemon.path),
        // older or newer than this extension: they check what the generated protocol types promise.
        files: ["src/methods.ts", "src/checks.ts"],
        rules: {
            "@typescript-eslint/no-unnecessary-condition": "off",
            "@typescript-eslint/no-unnecessary-boolean-literal-compare": "off",
            "@typescript-eslint/no-unnecessary-type-conversion": "off",
        },
    },
    {
        // In a test a wrong `x!` fails the test, which is what an assertion would do, with less noise.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-non-null-assertion": "off" },
    },
    {
        // The build and packaging scripts are plain Node modules, not type-checked.
        files: ["**/*.mjs"],
        languageOptions: {
            globals: { console: "readonly", process: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly" },
        },
    },
);
