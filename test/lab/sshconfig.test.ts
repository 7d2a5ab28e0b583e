// The operator's ssh_config pointed at the lab's files.
import { beforeAll, describe, expect, it } from "vitest";
import type { LabPlan } from "../../lab/model";
import { identityFileName, rewriteSshConfig, sshAliases } from "../../lab/sshconfig";
import { programLabPlan } from "../helpers/labFixture";

let plan: LabPlan;
beforeAll(async () => {
    plan = await programLabPlan();
});
const paths = {
    identityFile: "/w/.lab/jumpgate-e2e_ed25519",
    knownHostsFile: "/w/.lab/known_hosts",
    controlDir: "/w/.lab",
};

describe("rewriteSshConfig", () => {
    it("rewrites only the key, known_hosts and control socket paths", () => {
        const out = rewriteSshConfig(plan.sshConfig, paths);
        const before = plan.sshConfig.split("\n");
        const after = out.split("\n");
        expect(after.length).toBe(before.length);
        const changed = before.filter((l, i) => l !== after[i]);
        expect(changed.every((l) => /^\s*(IdentityFile|UserKnownHostsFile|ControlPath) /.test(l))).toBe(true);
        expect(out).toContain("  IdentityFile /w/.lab/jumpgate-e2e_ed25519\n");
        expect(out).toContain("  UserKnownHostsFile /w/.lab/known_hosts\n");
        expect(out).toContain("  ControlPath /w/.lab/cm-%C\n");
        expect(out).toContain(`  HostName ${plan.hosts.find((h) => h.role === "bastion")!.publicIp}\n`);
        expect(out).toContain("  ProxyJump e2e-bastion\n");
        expect(out).not.toContain("~/");
    });

    it("points a team config's certificate next to the lab's key", () => {
        const team = "Host x\n  IdentityFile ~/.ssh/k\n  CertificateFile ~/.ssh/k-cert.pub\n";
        expect(rewriteSshConfig(team, paths)).toBe(
            "Host x\n  IdentityFile /w/.lab/jumpgate-e2e_ed25519\n  CertificateFile /w/.lab/jumpgate-e2e_ed25519-cert.pub\n",
        );
    });

    it("handles `Key=value`, odd case and paths with spaces; refuses socket paths that cannot work", () => {
        const out = rewriteSshConfig("Host x\n  identityfile=~/.ssh/k\n", { ...paths, identityFile: "/a b/k" });
        expect(out).toBe('Host x\n  identityfile="/a b/k"\n');
        expect(() => rewriteSshConfig("", { ...paths, controlDir: `/${"d".repeat(60)}` })).toThrow(/too long/);
    });

    it("finds the aliases and the key's file name", () => {
        expect(sshAliases(plan.sshConfig)).toEqual(["e2e-bastion", "e2e-app-1", "e2e-db-1"]);
        expect(identityFileName(plan.sshConfig)).toBe("jumpgate-e2e_ed25519");
        expect(identityFileName("IdentityFile ~/.ssh/../.hidden\n")).toBe("id_ed25519");
    });
});
