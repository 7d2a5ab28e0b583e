// The simulated keys must be real keys: OpenSSH derives the same public key and fingerprint from them.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ed25519KeyPair, seedFrom } from "../../offline/sshKeys";
import { toolsAvailable } from "../helpers/tools";

describe.runIf(toolsAvailable("ssh-keygen"))("ed25519KeyPair", () => {
    it("writes private keys OpenSSH reads back to the same public key and fingerprint", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "jg-keys-"));
        for (const pair of [ed25519KeyPair(), ed25519KeyPair(seedFrom("dev/x"), "with comment")]) {
            const file = path.join(dir, "key");
            writeFileSync(file, pair.privateKeyOpenssh, { mode: 0o600 });
            const derived = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" });
            expect(derived.trim().split(" ").slice(0, 2).join(" ")).toBe(pair.publicKeyOpenssh.trim());
            expect(execFileSync("ssh-keygen", ["-l", "-f", file], { encoding: "utf8" })).toContain(
                pair.fingerprintSha256,
            );
        }
    });

    it("is reproducible from a seed and random without one", () => {
        expect(ed25519KeyPair(seedFrom("a")).publicKeyOpenssh).toBe(ed25519KeyPair(seedFrom("a")).publicKeyOpenssh);
        expect(ed25519KeyPair(seedFrom("a")).publicKeyOpenssh).not.toBe(ed25519KeyPair(seedFrom("b")).publicKeyOpenssh);
        expect(ed25519KeyPair().publicKeyOpenssh).not.toBe(ed25519KeyPair().publicKeyOpenssh);
    });
});
