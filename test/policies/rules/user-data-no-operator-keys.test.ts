import { setUserData, userDataOf } from "../../helpers/userData";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { OfflineRun } from "../../../offline/run";
import { ed25519KeyPair, seedFrom } from "../../../offline/sshKeys";
import { named, plan, T } from "../../helpers/program";
import { evaluatePack, withChange } from "../../helpers/policyHarness";

const POLICY = "user-data-no-operator-keys";
const messages = async (run: OfflineRun) =>
    (await evaluatePack(run)).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);
const ALICE = ed25519KeyPair(seedFrom("policy-alice"), "alice@laptop").publicKeyOpenssh;
const short = `${ALICE.slice(0, 32)}...`;
const advice =
    "although the stack has a user CA; give the operator a role in config (operators) and let them sign a " +
    "certificate with npx jumpgate-ssh login.";

describe(POLICY, () => {
    const team = { name: "alice", role: "admin", awsPrincipals: ["arn:aws:iam::123456789012:user/alice"] };
    let kms: OfflineRun;
    let stackCa: OfflineRun;
    let single: OfflineRun;
    beforeAll(async () => {
        kms = await plan({ "jumpgate:operators": [team] });
        stackCa = await plan({
            "jumpgate:userCa": "stack",
            "jumpgate:operators": [{ name: "alice", role: "admin", publicKeys: [ALICE] }],
        });
        single = await plan({ "jumpgate:operatorPublicKeys": [ALICE] });
    });
    const editCloudConfig = (run: OfflineRun, name: string, edit: (doc: Record<string, unknown>) => void) =>
        withChange(run, T.instance, name, (p) => {
            const doc = parse(userDataOf(p)) as Record<string, unknown>;
            edit(doc);
            setUserData(p, `#cloud-config\n${stringify(doc)}`);
        });

    it("passes both CA stacks as built: only cert-authority lines and host keys", async () => {
        expect(userDataOf(named(kms, T.instance, "test-bastion-instance").inputs)).toContain("cert-authority,");
        expect(await messages(kms)).toEqual([]);
        expect(await messages(stackCa)).toEqual([]);
    });

    it("does not apply without a CA: the single shared key path lists operator keys by design", async () => {
        expect(userDataOf(named(single, T.instance, "test-app-1").inputs)).toContain(ALICE.split(" ")[1]);
        expect(await messages(single)).toEqual([]);
    });

    it("catches an operator key in a user's ssh_authorized_keys on a CA stack", async () => {
        const bad = editCloudConfig(kms, "test-app-1", (doc) => {
            (doc.users as Record<string, unknown>[])[0]!.ssh_authorized_keys = [ALICE];
        });
        expect(await messages(bad)).toEqual([
            [
                "test-app-1",
                `test-app-1: userDataBase64 carries the login key ${short} at users[0].ssh_authorized_keys[0], ${advice}`,
            ],
        ]);
    });

    it("catches a key written to an authorized_keys file, but not a CA line next to it (stack CA too)", async () => {
        const bad = editCloudConfig(stackCa, "test-bastion-instance", (doc) => {
            const files = doc.write_files as { path: string; content: string }[];
            const ca = files.find((f) => f.path === "/etc/ssh/jumpgate-user-cas/jump")!;
            ca.content += `${ALICE}\n`;
        });
        const index = (
            parse(userDataOf(named(stackCa, T.instance, "test-bastion-instance").inputs)) as {
                write_files: { path: string }[];
            }
        ).write_files.findIndex((f) => f.path === "/etc/ssh/jumpgate-user-cas/jump");
        expect(await messages(bad)).toEqual([
            [
                "test-bastion-instance",
                `test-bastion-instance: userDataBase64 carries the login key ${short} at write_files[${index}].content, ${advice}`,
            ],
        ]);
    });

    it("sees a CA in user data alone (TrustedUserCAKeys) and then refuses keys in a shell script elsewhere", async () => {
        const withCa = withChange(single, T.instance, "test-bastion-instance", (p) => {
            setUserData(p, userDataOf(p).replace("AllowGroups", "TrustedUserCAKeys /etc/ssh/ca.pub\n    AllowGroups"));
        });
        const messagesOf = await messages(withCa);
        expect([...new Set(messagesOf.map(([urn]) => urn))].sort()).toEqual(["test-app-1", "test-bastion-instance"]);
        const script = withChange(withCa, T.instance, "test-app-1", (p) => {
            p.userData = `#!/bin/sh\necho '${ALICE}' >> /home/ops/.ssh/authorized_keys\n`;
        });
        expect((await messages(script)).find(([urn]) => urn === "test-app-1")).toEqual([
            "test-app-1",
            `test-app-1: userData carries the login key ${short} at user data (not cloud-config), ${advice}`,
        ]);
    });
});
