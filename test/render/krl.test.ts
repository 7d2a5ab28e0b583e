// The KRL jumpgate renders is judged by OpenSSH's own reader: `ssh-keygen -Q` says which certificates
// (made by `ssh-keygen -s`) it revokes. And the install commands write exactly those bytes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderKrl, renderKrlInstallCommands } from "../../components/render/krl";
import { toolsAvailable } from "../helpers/tools";

describe.runIf(toolsAvailable("ssh-keygen", "sh", "base64"))("KRL (PROTOCOL.krl) as ssh-keygen -Q reads it", () => {
    let work = "";
    const file = (name: string) => join(work, name);
    const keygen = (name: string) =>
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file(name)], { stdio: "ignore" });
    /** A certificate of `who`'s key from `ca`, with this key ID and serial. */
    const certify = (ca: string, who: string, serial: bigint) => {
        const r = spawnSync(
            "ssh-keygen",
            ["-q", "-s", file(ca), "-I", `jumpgate-t:${who}`, "-n", "app"].concat([
                "-z",
                String(serial),
                file(`${who}.pub`),
            ]),
        );
        if (r.status !== 0) throw new Error(String(r.stderr));
        return file(`${who}-cert.pub`);
    };
    const revoked = (krl: Buffer, cert: string) => {
        writeFileSync(file("krl"), krl);
        const r = spawnSync("ssh-keygen", ["-Q", "-f", file("krl"), cert], { encoding: "utf8" });
        if (r.status !== 0 && !r.stdout.includes("REVOKED")) throw new Error(`ssh-keygen -Q: ${r.stderr}`);
        return r.stdout.includes("REVOKED");
    };
    const pub = (name: string) => readFileSync(file(`${name}.pub`), "utf8");

    beforeAll(() => {
        work = mkdtempSync(join(tmpdir(), "jgt-krl-"));
        for (const k of ["ca", "other-ca", "role-ca", "alice", "bob", "carol", "dave"]) keygen(k);
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it("revokes by serial, key ID and public key for its CA, and nothing else", () => {
        const krl = renderKrl({
            caPublicKeys: [pub("ca")],
            serials: [11n, (1n << 64n) - 1n],
            keyIds: ["jumpgate-t:bob"],
            publicKeys: [pub("carol")],
            comment: "jumpgate t",
        });
        expect(revoked(krl, certify("ca", "alice", 11n))).toBe(true);
        expect(revoked(krl, certify("ca", "bob", 12n))).toBe(true);
        expect(revoked(krl, certify("ca", "carol", 13n))).toBe(true);
        expect(revoked(krl, certify("ca", "dave", 14n))).toBe(false);
        // The same serial and key ID from another CA are not this CA's certificates.
        expect(revoked(krl, certify("other-ca", "alice", 11n))).toBe(false);
        expect(revoked(krl, certify("other-ca", "dave", 14n))).toBe(false);
        const listing = spawnSync("ssh-keygen", ["-Q", "-l", "-f", file("krl")], { encoding: "utf8" }).stdout;
        expect(listing).toContain("serial: 18446744073709551615");
        expect(listing).toContain("id: jumpgate-t:bob");
        expect(listing).toContain("# Comment: jumpgate t");
    });

    it("with one CA per role, revokes the serials and key IDs under each of them (a repeated CA once)", () => {
        const krl = renderKrl({
            caPublicKeys: [pub("ca"), pub("role-ca"), pub("ca")],
            serials: [21n],
            keyIds: ["jumpgate-t:bob"],
            publicKeys: [],
        });
        for (const ca of ["ca", "role-ca"]) {
            expect(revoked(krl, certify(ca, "alice", 21n))).toBe(true);
            expect(revoked(krl, certify(ca, "bob", 22n))).toBe(true);
            expect(revoked(krl, certify(ca, "dave", 23n))).toBe(false);
        }
        expect(revoked(krl, certify("other-ca", "alice", 21n))).toBe(false);
        const listing = spawnSync("ssh-keygen", ["-Q", "-l", "-f", file("krl")], { encoding: "utf8" }).stdout;
        expect(listing.match(/^# CA key /gm)).toHaveLength(2);
    });

    it("an empty KRL revokes nothing, and the same list renders the same bytes", () => {
        const empty = renderKrl({ caPublicKeys: [pub("ca")], serials: [], keyIds: [], publicKeys: [] });
        expect(revoked(empty, certify("ca", "alice", 11n))).toBe(false);
        const a = renderKrl({ caPublicKeys: [pub("ca")], serials: [2n, 1n], keyIds: ["b", "a"], publicKeys: [] });
        const b = renderKrl({ caPublicKeys: [pub("ca")], serials: [1n, 2n, 1n], keyIds: ["a", "b"], publicKeys: [] });
        expect(a.equals(b)).toBe(true);
        expect(() => renderKrl({ caPublicKeys: [pub("ca")], serials: [0n], keyIds: [], publicKeys: [] })).toThrow(
            /serial 0/,
        );
    });

    it("the install commands write the KRL's bytes atomically, mode 0644", () => {
        const krl = renderKrl({ caPublicKeys: [pub("ca")], serials: [5n], keyIds: [], publicKeys: [] });
        const target = file("installed-krl");
        // chown root:root needs root; elsewhere check the rest of the script.
        const commands = renderKrlInstallCommands(krl, target);
        const script = process.getuid?.() === 0 ? commands : commands.replace(/^chown .*$/m, ":");
        const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        expect(readFileSync(target).equals(krl)).toBe(true);
        expect(statSync(target).mode & 0o777).toBe(0o644);
        expect(() => renderKrlInstallCommands(krl, "relative/path")).toThrow(/plain absolute path/);
    });
});
