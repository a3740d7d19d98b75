import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts", "emulator/**/*.test.ts"],
    // Contract tests boot the emulator (HTTPS + real SDK clients); give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Azurite's Blob service, from devDependencies, for the state store's contract suite.
    globalSetup: ["test/support/azuriteGlobalSetup.ts"],
  },
});
