import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
    resolve: {
        // Examples import the library by its package name, as a program of their own does; here that is
        // the repository's library entry (tsconfig.json `paths` says the same to tsc and tsx).
        alias: [{ find: /^jumpgate$/, replacement: fileURLToPath(new URL("./index.ts", import.meta.url)) }],
    },
    test: {
        include: ["test/**/*.test.ts"],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        // Lab and real-tool suites start daemons and namespaces; run files one at a time there.
        fileParallelism: false,
    },
});
