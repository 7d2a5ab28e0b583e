// The offline plan comparison on the real program under mocks: save a plan, change the config, compare.
// These pin what today's program does to running hosts on common day-two changes.
import { beforeAll, describe, expect, it } from "vitest";
import { Action, Comparison, comparePlans } from "../../offline/compare";
import { renderComparison } from "../../offline/compareReport";
import { SavedPlan, isSecretDigest, toSavedPlan } from "../../offline/planFile";
import { OfflineRun } from "../../offline/run";
import { ed25519KeyPair, seedFrom } from "../../offline/sshKeys";
import { T, plan } from "../helpers/program";

/** `type name` of the resources with `action`, in registration order. */
const withAction = (c: Comparison, action: Action) =>
    c.resources.filter((r) => r.action === action).map((r) => `${r.type} ${r.name}`);

const INSTANCES = [`${T.instance} test-app-1`, `${T.instance} test-bastion-instance`];
const BASTION_EIP_ASSOCIATION = `${T.eipAssociation} test-bastion-eip`;
const STASH = "pulumi:index:Stash";

let base: OfflineRun;
let saved: SavedPlan;

beforeAll(async () => {
    base = await plan();
    saved = toSavedPlan(base);
});

async function compareWith(overrides: Record<string, unknown>): Promise<{ c: Comparison; text: string }> {
    const c = comparePlans(saved, await plan(overrides));
    return { c, text: renderComparison(c, "saved.json") };
}

describe("saved plan", () => {
    it("holds no private key: secret inputs are salted digests that differ between files", () => {
        const text = JSON.stringify(saved);
        expect(text).not.toContain("PRIVATE KEY");
        expect(text).not.toContain("#cloud-config");
        const userData = saved.resources.filter((r) => r.type === T.instance).map((r) => r.inputs.userData);
        expect(userData).toHaveLength(2);
        expect(userData.every(isSecretDigest)).toBe(true);
        const again = toSavedPlan(base);
        expect(again.salt).not.toBe(saved.salt);
        expect(JSON.stringify(again.resources)).not.toBe(JSON.stringify(saved.resources));
    });

    it("compares as unchanged against the same program", async () => {
        const { c, text } = await compareWith({});
        expect(c.resources.filter((r) => r.action !== "same")).toEqual([]);
        expect(text).toContain("0 to create, 0 to update in place, 0 to replace, 0 to delete");
        expect(text).toContain("offline plan comparison");
        expect(text).not.toMatch(/this is `?pulumi preview/i);
    });
});

describe("day-two changes (today's behaviour)", () => {
    it("adding a target creates its host and replaces the bastion, whose user data lists targets (PermitOpen)", async () => {
        const { c, text } = await compareWith({ "jumpgate:targets": [{ name: "app-1" }, { name: "app-2" }] });
        // With the audit trail on, the target comes with a role that may write only its own log stream.
        expect(withAction(c, "create").sort()).toEqual(
            [
                `${T.privateKey} test-app-2-host`,
                `${T.instance} test-app-2`,
                "aws:iam/role:Role test-app-2-role",
                "aws:iam/rolePolicy:RolePolicy test-app-2-audit-stream",
                "aws:iam/instanceProfile:InstanceProfile test-app-2-profile",
            ].sort(),
        );
        expect(withAction(c, "replace")).toEqual([`${T.instance} test-bastion-instance`, BASTION_EIP_ASSOCIATION]);
        expect(withAction(c, "delete")).toEqual([]);
        const bastion = c.resources.find((r) => r.name === "test-bastion-instance")!;
        // The bastion's user data is past 16 KiB, so it goes gzipped in userDataBase64.
        expect(bastion.changes).toEqual([
            expect.objectContaining({ path: "userDataBase64", secret: true, forcesReplacement: true }),
        ]);
        // The Elastic IP moves to the new instance: its association is replaced because instanceId is force-new.
        const association = c.resources.find((r) => r.type === T.eipAssociation)!;
        expect(association.changes).toEqual([
            expect.objectContaining({ path: "instanceId", afterApply: true, forcesReplacement: true }),
        ]);
        expect(text).toContain(
            "!!! 1 instance(s) will be REPLACED (destroyed, then booted anew): test-bastion-instance",
        );
        expect(text).toContain("userDataBase64: changes (secret, value not shown)  [FORCES REPLACEMENT");
        expect(text).not.toContain("PRIVATE KEY");
    });

    it("adding an operator key replaces every instance and deletes the generated operator key", async () => {
        const key = ed25519KeyPair(seedFrom("compare-test-operator")).publicKeyOpenssh;
        const { c } = await compareWith({ "jumpgate:operatorPublicKeys": [key] });
        expect(
            withAction(c, "replace")
                .filter((r) => r.startsWith(T.instance))
                .sort(),
        ).toEqual(INSTANCES);
        expect(withAction(c, "delete")).toEqual([`${T.privateKey} test-operator`]);
        expect(withAction(c, "create")).toEqual([]);
    });

    it("adding a tunnel opens two rules and replaces the bastion (PermitOpen), not the target", async () => {
        const { c } = await compareWith({
            "jumpgate:tunnels": [{ name: "db", target: "app-1", remotePort: 5432, localPort: 15432 }],
        });
        expect(withAction(c, "create")).toEqual([
            `${T.egress} test-bastion-tunnel-db`,
            `${T.ingress} test-targets-tunnel-db`,
        ]);
        expect(withAction(c, "replace")).toEqual([`${T.instance} test-bastion-instance`, BASTION_EIP_ASSOCIATION]);
    });

    it("changing who may connect (allowedCidrs) changes the bastion's group rules only, no instance", async () => {
        const { c } = await compareWith({ "jumpgate:allowedCidrs": ["203.0.113.0/24", "198.51.100.7/32"] });
        expect(withAction(c, "create")).toEqual([`${T.ingress} test-bastion-ssh-in-1`]);
        expect(withAction(c, "replace")).toEqual([]);
        expect(withAction(c, "update")).toEqual([]);
    });

    it("switching the OS replaces every host, and the replacements boot the new OS's image", async () => {
        const { c, text } = await compareWith({ "jumpgate:os": "ubuntu-24.04" });
        expect(
            withAction(c, "replace")
                .filter((r) => r.startsWith(T.instance))
                .sort(),
        ).toEqual(INSTANCES);
        for (const host of c.resources.filter((r) => r.type === T.instance)) {
            expect(host.changes.find((x) => x.path === "ami")).toMatchObject({
                ignored: false,
                forcesReplacement: true,
            });
            // Text or, past 16 KiB, gzipped (the bastion's document on both OSes).
            const userData = host.changes.find((x) => x.path === "userData" || x.path === "userDataBase64");
            expect(userData).toMatchObject({ forcesReplacement: true });
        }
        expect(text).not.toContain("the replacement boots the image recorded in state");
    });

    it("a newly published image replaces no host; pinning it replaces every host that boots that series", async () => {
        const LATER = "20261215-0300";
        const recorded = Object.fromEntries(
            base.resources.filter((r) => r.type === STASH).map((r) => [r.name, r.state.output]),
        );
        const published = comparePlans(saved, await plan({}, "test", { newestImage: LATER, stashed: recorded }));
        // Only the record of the newest lookup moves (an in-place update of the Stash's input); no host changes.
        expect(published.resources.filter((r) => r.action !== "same").map((r) => [r.type, r.action])).toEqual([
            [STASH, "update"],
        ]);

        // The newest image the lookup finds now (what the warning's pin command names).
        const lookup = (await plan({}, "test", { newestImage: LATER })).calls.find(
            (call) => call.token === "aws:ec2/getAmi:getAmi",
        )!;
        const newAmi = String(lookup.result.id);
        expect(newAmi).not.toBe(base.resources.find((r) => r.type === T.instance)!.inputs.ami);
        const pinned = comparePlans(
            saved,
            await plan({ "jumpgate:amiIds": { "debian-13/arm64": newAmi } }, "test", { newestImage: LATER }),
        );
        expect(
            withAction(pinned, "replace")
                .filter((r) => r.startsWith(T.instance))
                .sort(),
        ).toEqual(INSTANCES);
        for (const host of pinned.resources.filter((r) => r.type === T.instance))
            expect(host.changes.find((x) => x.path === "ami")).toMatchObject({
                after: newAmi,
                forcesReplacement: true,
            });
    });

    it("a longer audit retention and a new alarm threshold change in place; no instance is touched", async () => {
        const { c } = await compareWith({
            "jumpgate:auditLogRetentionDays": 731,
            "jumpgate:auditAuthFailuresPerMinute": 20,
        });
        expect(withAction(c, "update").sort()).toEqual(
            [
                "aws:cloudwatch/logGroup:LogGroup test-audit",
                "aws:cloudwatch/metricAlarm:MetricAlarm test-AuthFailures",
            ].sort(),
        );
        expect(withAction(c, "replace")).toEqual([]);
        expect(withAction(c, "create")).toEqual([]);
    });

    it("turning the audit trail off deletes its group, key, topic and the targets' roles, and replaces every host", async () => {
        const { c } = await compareWith({ "jumpgate:audit": false });
        expect(withAction(c, "delete")).toEqual(
            expect.arrayContaining([
                "aws:cloudwatch/logGroup:LogGroup test-audit",
                "aws:kms/key:Key test-audit-key",
                "aws:sns/topic:Topic test-audit-alarms",
                "aws:iam/role:Role test-app-1-role",
            ]),
        );
        // The agent leaves the user data, which replaces the hosts (userDataReplaceOnChange).
        expect(withAction(c, "replace")).toEqual(
            expect.arrayContaining([`${T.instance} test-bastion-instance`, `${T.instance} test-app-1`]),
        );
    });

    it("removing a target says loudly that its host is destroyed", async () => {
        const { c, text } = await compareWith({ "jumpgate:targets": [] });
        expect(withAction(c, "delete").sort()).toEqual(
            [
                `${T.privateKey} test-app-1-host`,
                `${T.instance} test-app-1`,
                "aws:iam/role:Role test-app-1-role",
                "aws:iam/rolePolicy:RolePolicy test-app-1-audit-stream",
                "aws:iam/instanceProfile:InstanceProfile test-app-1-profile",
            ].sort(),
        );
        expect(text).toContain("!!! 1 instance(s) will be DESTROYED: test-app-1");
        expect(text.indexOf("DESTROYED")).toBeLessThan(text.indexOf("-   DELETE"));
    });
});

describe("replacement rules", () => {
    const instanceIn = (p: { resources: { type: string; name: string; inputs: Record<string, unknown> }[] }) =>
        p.resources.find((r) => r.type === T.instance && r.name === "test-app-1")!.inputs;

    it("a new instance type updates in place (stop/start); root volume encryption replaces", () => {
        const prior = structuredClone(saved);
        instanceIn(prior).instanceType = "t4g.nano";
        (instanceIn(prior).rootBlockDevice as Record<string, unknown>).encrypted = false;
        const host = comparePlans(prior, base).resources.find((r) => r.name === "test-app-1")!;
        expect(host.action).toBe("replace");
        expect(host.changes).toEqual([
            expect.objectContaining({
                path: "instanceType",
                forcesReplacement: false,
                note: expect.stringContaining("stopped and started"),
            }),
            expect.objectContaining({
                path: "rootBlockDevice.encrypted",
                before: false,
                after: true,
                forcesReplacement: true,
            }),
        ]);
        instanceIn(prior).rootBlockDevice = instanceIn(saved).rootBlockDevice;
        expect(comparePlans(prior, base).resources.find((r) => r.name === "test-app-1")!.action).toBe("update");
    });

    it("changed user data updates in place when userDataReplaceOnChange is false", () => {
        const run = structuredClone(base);
        const inputs = instanceIn(run);
        inputs.userDataReplaceOnChange = false;
        inputs.userData = `${String(inputs.userData)}\n# changed`;
        const host = comparePlans(saved, run).resources.find((r) => r.name === "test-app-1")!;
        expect(host.action).toBe("update");
        expect(host.changes.map((x) => [x.path, x.forcesReplacement])).toEqual([
            ["userData", false],
            ["userDataReplaceOnChange", false],
        ]);
    });
});
