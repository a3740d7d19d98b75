import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".keywarden/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript entry points run on Node.
    files: ["bin/**/*.js", "eslint.config.js"],
    languageOptions: { globals: { URL: "readonly", process: "readonly", console: "readonly" } },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
  {
    // Only src/lib/azure may import the Azure SDK; everything else talks to it through our adapters.
    files: ["src/**/*.ts"],
    ignores: ["src/lib/azure/**", "src/functions/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@azure/*", "!@azure/functions"], message: "Import Azure SDKs only in src/lib/azure." }] }],
    },
  },
  {
    // The house's layers: adapters map to the estate contract, never to the collector; compliance is pure.
    files: ["src/lib/azure/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/inventory/*", "**/compliance/*", "**/scan/*"], message: "src/lib/azure imports src/lib/estate only." }] }],
    },
  },
  {
    files: ["src/lib/compliance/**/*.ts", "src/lib/estate/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@azure/*"], message: "Import Azure SDKs only in src/lib/azure." },
            { group: ["**/inventory/*", "**/azure/*", "**/scan/*", "**/runtime.js"], message: "Controls are pure functions of (snapshot, policy, now): no collector, adapters or runtime." },
          ],
        },
      ],
    },
  },
  {
    // Time is injected; nothing in src/lib reads the wall clock directly.
    files: ["src/lib/**/*.ts"],
    ignores: ["src/lib/clock.ts"],
    rules: {
      "no-restricted-properties": ["error", { object: "Date", property: "now", message: "Inject a Clock (src/lib/clock.ts)." }],
    },
  },
  {
    // expect(xs.every(...)).toBe(true) passes on an empty array: assert the outcome (toEqual, or a filter of violators plus a length).
    files: ["**/*.test.ts", "test/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "CallExpression[callee.name='expect'] > CallExpression.arguments:first-child[callee.property.name='every']", message: "expect(xs.every(...)) passes on []: assert the items (toEqual) or filter the violators and check the length." },
      ],
    },
  },
);
