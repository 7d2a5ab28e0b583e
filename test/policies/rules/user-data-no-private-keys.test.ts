import { setUserData, userDataOf } from "../../helpers/userData";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { OfflineRun } from "../../../offline/run";
import { named, plan, T } from "../../helpers/program";
import { evaluatePack, withChange } from "../../helpers/policyHarness";

const POLICY = "user-data-no-private-keys";
const messages = async (run: OfflineRun) =>
    (await evaluatePack(run)).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);
const advice =
    "only SSH host keys (cloud-config ssh_keys.<type>_private) may be passed in user data. Fetch other secrets " +
    "at boot (SSM Parameter Store, Secrets Manager) with the instance role.";

describe(POLICY, () => {
    let run: OfflineRun;
    let operatorKey: string;
    beforeAll(async () => {
        run = await plan();
        operatorKey = String(named(run, T.privateKey, "test-operator").state.privateKeyOpenssh);
    });
    const editCloudConfig = (edit: (doc: Record<string, unknown>) => void) =>
        withChange(run, T.instance, "test-bastion-instance", (p) => {
            const doc = parse(userDataOf(p)) as Record<string, unknown>;
            edit(doc);
            setUserData(p, `#cloud-config\n${stringify(doc)}`);
        });

    it("passes the default stack, whose user data carries only host keys", async () => {
        expect(userDataOf(named(run, T.instance, "test-app-1").inputs)).toContain("ssh_keys:\n  ed25519_private: |");
        expect(await messages(run)).toEqual([]);
    });

    it("catches a private key written with write_files", async () => {
        const bad = editCloudConfig((doc) => {
            (doc.write_files as unknown[]).push({ path: "/home/jump/.ssh/id_ed25519", content: operatorKey });
        });
        const index = (
            parse(userDataOf(named(run, T.instance, "test-bastion-instance").inputs)) as { write_files: unknown[] }
        ).write_files.length;
        expect(await messages(bad)).toEqual([
            [
                "test-bastion-instance",
                `userDataBase64 contains a private key at write_files[${index}].content; ${advice}`,
            ],
        ]);
    });

    it("accepts a host key written to /etc/ssh/ssh_host_ed25519_key", async () => {
        const ok = editCloudConfig((doc) => {
            (doc.write_files as unknown[]).push({ path: "/etc/ssh/ssh_host_ed25519_key", content: operatorKey });
        });
        expect(await messages(ok)).toEqual([]);
    });

    it("catches a private key in a shell-script user data", async () => {
        const bad = withChange(run, T.instance, "test-app-1", (p) => {
            p.userData = `#!/bin/sh\ncat > /root/.ssh/id_ed25519 <<'KEY'\n${operatorKey}KEY\n`;
        });
        expect(await messages(bad)).toEqual([
            ["test-app-1", `userData contains a private key at user data (not cloud-config); ${advice}`],
        ]);
    });

    it("catches an RSA key under another cloud-config key", async () => {
        const rsa = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n";
        const bad = editCloudConfig((doc) => {
            (doc.ssh_keys as Record<string, string>).deploy_private = rsa;
        });
        expect(await messages(bad)).toEqual([
            ["test-bastion-instance", `userDataBase64 contains a private key at ssh_keys.deploy_private; ${advice}`],
        ]);
    });
});
