// examples/awsx-vpc stood up in the lab: an awsx VPC, two instances of the program's own (app-1, app-2,
// no user data, the operator's key pair, one shared security group) and jumpgate added for them as
// existing hosts whose keys the program cannot know. Planned with the example's own stack config (only the
// operator's key is the test's) and no jumpgate stack config; the operator installs the client config with
// jumpgate-ssh, pins each host against the fingerprint cloud-init printed to its console, and gets in
// through the bastion. The hosts' group admits SSH only from the bastion: the other host, inside the same
// VPC and group, gets no answer. Nothing on the hosts is jumpgate's.
import { mkdtempSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labPlanForProgram } from "../../lab/fromPlan";
import { labConsoleHostKeys, labExec, labUp, type LabHostState, type LabState } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import { readStackConfig } from "../../offline/run";
import { sshKeygen, tearDownLab } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";
import { consoleEd25519Fingerprint, operatorMachine, tcpFrom, type OperatorMachine } from "./programLab";

const STACK = "lp2";
const EXAMPLE = resolve(__dirname, "../../examples/awsx-vpc");
const HOSTS = ["app-1", "app-2"];
const gate = toolsAvailable("ip", "nft", "nsenter", "systemd-nspawn", "ssh", "ssh-keygen") && isRootOrFail();

describe.runIf(gate)("lab: examples/awsx-vpc, its own hosts reached through jumpgate", () => {
    let plan: LabPlan | undefined;
    let state: LabState;
    let operatorSide: OperatorMachine;
    const dir = mkdtempSync("/tmp/jg-lp2-");
    const scratch = mkdtempSync("/tmp/jg-lp2s-");
    const operator = sshKeygen("operator@lab");
    const host = (name: string): LabHostState => state.hosts.find((h) => h.name === name)!;

    beforeAll(async () => {
        plan = await labPlanForProgram(EXAMPLE, STACK, {
            config: {
                ...readStackConfig("dev", EXAMPLE),
                "jumpgate-awsx-example:operatorPublicKey": operator.publicKey,
            },
            operatorPrivateKey: operator.privateKey,
        });
        state = (await labUp(plan, dir)).state;
        operatorSide = operatorMachine(state, scratch, operator.privateKey);
    }, 400_000);

    afterAll(async () => {
        await tearDownLab(plan?.stack, dir, scratch);
    }, 60_000);

    it("plans the example from what it registered and boots its instances as EC2 would, untouched", () => {
        expect(plan!.allowedCidrs).toEqual(readStackConfig("dev", EXAMPLE)["jumpgate-awsx-example:allowedCidrs"]);
        expect(plan!.hosts.map((h) => [h.name, h.origin ?? "jumpgate"])).toEqual([
            ["bastion", "jumpgate"],
            ["app-1", "program"],
            ["app-2", "program"],
        ]);
        for (const name of HOSTS) {
            const h = host(name);
            expect(labExec(h, "cat", ["/var/lib/cloud/seed/nocloud/user-data"]).stdout).toBe("");
            const keys = labExec(h, "cat", ["/home/admin/.ssh/authorized_keys"]).stdout.trim();
            expect(keys.split(" ").slice(0, 2)).toEqual(operator.publicKey.split(" ").slice(0, 2));
            expect(labExec(h, "ls", ["/etc/ssh/sshd_config.d"]).stdout.trim()).toBe("");
            const mentions = labExec(h, "grep", ["-rlis", "jumpgate", "/etc", "/home/admin"], { check: false });
            expect(mentions.stdout.trim()).toBe("");
        }
    });

    it("the operator pins each unpinned host against its console fingerprint and reaches it through the bastion", () => {
        for (const name of HOSTS) {
            const alias = `${STACK}-${name}`;
            const before = operatorSide.whoami(alias);
            expect(before.status).toBe(255);
            expect(before.stderr).toContain(`No ED25519 host key is known for ${alias}`);
            const fingerprint = consoleEd25519Fingerprint(labConsoleHostKeys(host(name)));
            const pin = operatorSide.jumpgateSsh("pin", alias, "--fingerprint", fingerprint);
            expect(pin.status, pin.stderr).toBe(0);
            const after = operatorSide.whoami(alias);
            expect(after.stderr).not.toMatch(/WARNING|Permission denied|Permanently added/);
            expect(after.lines).toEqual([name, "admin"]);
        }
    }, 120_000);

    it("the hosts' group admits SSH only from the bastion: the other host in the VPC gets no answer", () => {
        const [one, two] = [host("app-1"), host("app-2")];
        expect(tcpFrom(host("bastion"), one.privateIp, 22)).toBe("open");
        // app-2 may send anything (its group's egress is all traffic), through the VPC router: dropped at app-1.
        expect(tcpFrom(two, one.privateIp, 22)).toBe("dropped");
        expect(tcpFrom(one, two.privateIp, 22)).toBe("dropped");
    }, 60_000);
});
