import { setUserData, userDataOf } from "../../helpers/userData";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange } from "../../helpers/policyHarness";

const POLICY = "user-data-host-keys-readable";
const message = (prop: string) =>
    `${prop} carries the SSH host private key (ssh_keys.ed25519_private): anyone with ` +
    "ec2:DescribeInstanceAttribute on this instance can read it and impersonate the host. Limit that permission " +
    "to administrators, and replace the host (pulumi up --replace) if it leaked.";

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });

    it("warns, as advisory only, on every host of the default stack: their pinned host keys are in user data", async () => {
        const found = (await evaluatePack(run)).of(POLICY);
        expect(found.map((v) => [v.urn?.split("::").pop(), v.enforcementLevel, v.message])).toEqual([
            // Every document is past 16 KiB as text with the host hardening, so each goes gzipped.
            ["test-app-1", "advisory", message("userDataBase64")],
            ["test-bastion-instance", "advisory", message("userDataBase64")],
        ]);
        expect(found[0]!.diagnostic).toContain("readable by anyone with ec2:DescribeInstanceAttribute");
    });

    it("says nothing for user data without host keys", async () => {
        const noKeys = withChange(run, T.instance, "test-app-1", (p) => {
            const doc = parse(userDataOf(p)) as Record<string, unknown>;
            delete doc.ssh_keys;
            setUserData(p, `#cloud-config\n${stringify(doc)}`);
        });
        const found = (await evaluatePack(noKeys)).of(POLICY);
        expect(found.map((v) => v.urn?.split("::").pop())).toEqual(["test-bastion-instance"]);
    });
});
