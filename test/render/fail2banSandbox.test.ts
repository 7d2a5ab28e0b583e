// The fail2ban.service drop-in, judged by systemd itself: Debian 13's own unit (from the lab's root) with the
// rendered drop-in, scored offline by `systemd-analyze security`. The booted lab host scores it again with
// Debian 13's systemd and proves the server still bans (test/lab/hostAudit.e2e.test.ts).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileAt, parseCloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit, renderTargetCloudInit } from "../../components/render/cloudInit";
import { FAIL2BAN_SANDBOX_DROPIN_PATH, renderFail2banSandbox } from "../../components/render/fail2ban";
import { debian13Root } from "../helpers/debian13";
import { sampleBastionSpec, sampleTargetSpec } from "../helpers/renderFixtures";
import { toolsAvailable } from "../helpers/tools";

/** Highest exposure accepted for the sandboxed unit (0 safe .. 10 unsafe); Debian's unit alone scores 9.6. */
export const FAIL2BAN_EXPOSURE_CEILING = 2.5;

describe("the fail2ban sandbox in the user data", () => {
    it("every host writes it, before the package's first start", () => {
        for (const doc of [renderBastionCloudInit(sampleBastionSpec()), renderTargetCloudInit(sampleTargetSpec())]) {
            const c = parseCloudConfig(doc);
            expect(fileAt(c, FAIL2BAN_SANDBOX_DROPIN_PATH)).toBe(renderFail2banSandbox());
            expect(c.write_files.find((f) => f.path === FAIL2BAN_SANDBOX_DROPIN_PATH)?.defer).toBeUndefined();
        }
    });

    it("keeps what fail2ban needs: CAP_NET_ADMIN for nft, netlink, its db and log writable, the journal readable", () => {
        const d = renderFail2banSandbox();
        expect(d).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN$/m);
        expect(d).toMatch(/^RestrictAddressFamilies=.*\bAF_NETLINK\b/m);
        expect(d).toMatch(/^ReadWritePaths=\/var\/lib\/fail2ban \/var\/log$/m);
        // Not PrivateNetwork (nft acts on the host's tables), not a dynamic user (journal files are root's).
        expect(d).not.toMatch(/^(PrivateNetwork|DynamicUser|User)=/m);
    });
});

const root = toolsAvailable("systemd-analyze") ? debian13Root() : undefined;

describe.runIf(root !== undefined)("systemd-analyze security on Debian 13's fail2ban.service", () => {
    /** The offline score of fail2ban.service in a tree holding Debian's unit and, optionally, the drop-in. */
    function score(withDropIn: boolean): { level: number; out: string } {
        const tree = mkdtempSync(join(tmpdir(), "jg-f2b-unit-"));
        try {
            const unit = join(tree, "usr/lib/systemd/system/fail2ban.service");
            mkdirSync(dirname(unit), { recursive: true });
            copyFileSync(join(root ?? "", "usr/lib/systemd/system/fail2ban.service"), unit);
            if (withDropIn) {
                const dropIn = join(tree, FAIL2BAN_SANDBOX_DROPIN_PATH);
                mkdirSync(dirname(dropIn), { recursive: true });
                writeFileSync(dropIn, renderFail2banSandbox());
            }
            const r = spawnSync(
                "systemd-analyze",
                ["security", "--offline=yes", `--root=${tree}`, "--no-pager", "fail2ban.service"],
                { encoding: "utf8", timeout: 60_000 },
            );
            const out = r.stdout + r.stderr;
            const level = Number(/Overall exposure level for fail2ban\.service: (\d+\.\d+)/.exec(out)?.[1]);
            return { level, out };
        } finally {
            rmSync(tree, { recursive: true, force: true });
        }
    }

    it(`brings the exposure from Debian's level down to at most ${FAIL2BAN_EXPOSURE_CEILING}`, () => {
        const before = score(false);
        const after = score(true);
        console.log(`fail2ban.service exposure (this machine's systemd, offline): ${before.level} -> ${after.level}`);
        expect(before.level, before.out).toBeGreaterThan(9);
        expect(after.level, after.out).toBeLessThanOrEqual(FAIL2BAN_EXPOSURE_CEILING);
        // Every directive was understood (an unknown one would be ignored with a warning).
        expect(after.out).not.toMatch(/Unknown key|Failed to parse|ignoring/i);
    });
});
