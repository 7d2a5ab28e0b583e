import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        // Lab and real-tool suites start daemons and namespaces; run files one at a time there.
        fileParallelism: false,
    },
});
