import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** Suites that boot lab hosts: namespaces and stacks are global on the machine, so one file at a time. */
const LAB = ["test/lab/**/*.e2e.test.ts", "test/scripts/lab.test.ts"];

export default defineConfig({
    resolve: {
        // Examples import the library by its package name, as a program of their own does; here that is
        // the repository's library entry (tsconfig.json `paths` says the same to tsc and tsx).
        alias: [{ find: /^jumpgate$/, replacement: fileURLToPath(new URL("./index.ts", import.meta.url)) }],
    },
    test: {
        testTimeout: 60_000,
        hookTimeout: 120_000,
        projects: [
            {
                extends: true,
                // Everything else runs in private namespaces, temp dirs and free ports: files in parallel,
                // before the lab.
                test: { name: "offline", include: ["test/**/*.test.ts"], exclude: LAB, sequence: { groupOrder: 0 } },
            },
            {
                extends: true,
                test: { name: "lab", include: LAB, fileParallelism: false, sequence: { groupOrder: 1 } },
            },
        ],
    },
});
