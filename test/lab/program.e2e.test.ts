// A user's own program stood up in the lab: test/fixtures/labProgram builds its own VPC, key pair, security
// groups and two instances (app, with a host key in its own user data, so pinned; worker, the image as it
// is, so unpinned), and adds jumpgate for them as existing hosts. The lab plans it without any jumpgate
// stack config and boots its instances as EC2 launches them. Through jumpgate's bastion and the generated
// ssh_config the operator reaches both with the program's own login (its key pair on the image's default
// user); the unpinned one only after its key was pinned against the fingerprint cloud-init printed to the
// console. The host's own group admits SSH only from the bastion, and jumpgate changed nothing on the hosts.
import { mkdtempSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runIn, type RunResult } from "../../lab/exec";
import { labPlanForProgram } from "../../lab/fromPlan";
import { labConsoleHostKeys, labExec, labStatus, labUp, type LabHostState, type LabState } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import { sshKeygen, tearDownLab } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";
import { cleanSshEnv, consoleEd25519Fingerprint, operatorMachine, tcpFrom } from "./programLab";

const STACK = "lp";
const PROGRAM = resolve(__dirname, "../fixtures/labProgram");
const gate = toolsAvailable("ip", "nft", "nsenter", "systemd-nspawn", "ssh", "ssh-keygen") && isRootOrFail();

describe.runIf(gate)("lab: a program's own hosts, reached through jumpgate", () => {
    let plan: LabPlan | undefined;
    let state: LabState;
    const dir = mkdtempSync("/tmp/jg-lp-");
    const scratch = mkdtempSync("/tmp/jg-lps-");
    const operator = sshKeygen("operator@lab");

    const host = (name: string): LabHostState => state.hosts.find((h) => h.name === name)!;
    const client = (args: string[], timeoutMs = 30_000): RunResult =>
        runIn(state.clientNs, "ssh", ["-F", state.sshConfig, "-o", "BatchMode=yes", ...args], {
            check: false,
            timeoutMs,
            env: cleanSshEnv(),
        });

    beforeAll(async () => {
        plan = await labPlanForProgram(PROGRAM, STACK, {
            config: { "lab-program:operatorPublicKey": operator.publicKey },
            operatorPrivateKey: operator.privateKey,
        });
        state = (await labUp(plan, dir)).state;
    }, 400_000);

    afterAll(async () => {
        await tearDownLab(plan?.stack, dir, scratch);
    }, 60_000);

    it("plans the program without a jumpgate stack config: settings from what it registered", () => {
        expect(plan!.allowedCidrs).toEqual(["203.0.113.0/24"]);
        expect([plan!.sshPort, plan!.jumpUser]).toEqual([22, "jump"]);
        expect(plan!.hosts.map((h) => [h.name, h.role, h.origin ?? "jumpgate"])).toEqual([
            ["bastion", "bastion", "jumpgate"],
            ["app", "target", "program"],
            ["worker", "target", "program"],
        ]);
    });

    it("boots the program's instances with their own user data and key pair, and nothing of jumpgate's", () => {
        for (const name of ["app", "worker"]) {
            const h = host(name);
            const seed = labExec(h, "cat", ["/var/lib/cloud/seed/nocloud/user-data"]).stdout;
            expect(seed).toBe(plan!.hosts.find((p) => p.name === name)!.cloudInit);
            expect(seed).not.toMatch(/jumpgate/i);
            // EC2's key-pair login: the image's default user holds exactly the program's key.
            const keys = labExec(h, "cat", ["/home/admin/.ssh/authorized_keys"]).stdout.trim();
            expect(keys.split(" ").slice(0, 2)).toEqual(operator.publicKey.split(" ").slice(0, 2));
            // Debian's own sshd config, and no file anywhere in /etc or the user's home names jumpgate: it
            // hardens only the hosts it builds (the lab's image holds fail2ban, unconfigured by anyone here).
            expect(labExec(h, "ls", ["/etc/ssh/sshd_config.d"]).stdout.trim()).toBe("");
            const mentions = labExec(h, "grep", ["-rlis", "jumpgate", "/etc", "/home/admin"], { check: false });
            expect(mentions.stdout.trim()).toBe("");
        }
        // The program's own document, applied by cloud-init as written.
        expect(labExec(host("app"), "cat", ["/etc/app/app.conf"]).stdout).toBe("listen = 8080\n");
        expect(plan!.hosts.find((p) => p.name === "worker")!.cloudInit).toBe("");
    });

    it("the operator reaches the pinned existing host through the bastion with the generated config", () => {
        const r = client(["lp-app", "cat /proc/sys/kernel/hostname; id -un"]);
        expect(r.stderr).not.toMatch(/WARNING|Permission denied/);
        expect(r.stdout.trim().split("\n")).toEqual(["app", "admin"]);
        // Straight from the operator's address there is no way in: the host is private.
        expect(client(["-o", "ProxyJump=none", "-o", "ConnectTimeout=3", "lp-app", "true"], 15_000).status).not.toBe(0);
    }, 60_000);

    it("the unpinned existing host: the operator installs the config, pins the console's fingerprint, gets in", () => {
        // The operator's own machine: the stack's outputs installed into a home by jumpgate-ssh, with the
        // operator's key; everything runs from the operator's address (the client namespace).
        const { jumpgateSsh, whoami } = operatorMachine(state, scratch, operator.privateKey);
        expect(whoami("lp-app").lines).toEqual(["app", "admin"]);
        const before = whoami("lp-worker");
        expect(before.status).toBe(255);
        expect(before.stderr).toContain("No ED25519 host key is known for lp-worker");

        // `aws ec2 get-console-output`: what cloud-init printed at first boot, outside SSH.
        const consoleText = labConsoleHostKeys(host("worker"));
        expect(consoleText).toMatch(/-----BEGIN SSH HOST KEY FINGERPRINTS-----/);
        const fingerprint = consoleEd25519Fingerprint(consoleText);
        // Another host's fingerprint is refused (the key is fetched through the bastion and compared).
        const wrong = jumpgateSsh(
            "pin",
            "lp-worker",
            "--fingerprint",
            consoleEd25519Fingerprint(labConsoleHostKeys(host("app"))),
        );
        expect(wrong.status).toBe(1);
        expect(wrong.stderr).toContain("refusing to pin lp-worker");
        expect(wrong.stderr).toContain(fingerprint); // what the host really presented, through the bastion

        const pin = jumpgateSsh("pin", "lp-worker", "--fingerprint", fingerprint);
        expect(pin.status, pin.stderr).toBe(0);
        const after = whoami("lp-worker");
        expect(after.stderr).not.toMatch(/WARNING|Permission denied|Permanently added/);
        expect(after.lines).toEqual(["worker", "admin"]);
    }, 120_000);

    it("the existing host's group admits SSH only from the last hop: from elsewhere in the VPC it is dropped", () => {
        const app = host("app");
        // The bastion gets through (its group is the one jumpgate's rule names).
        expect(tcpFrom(host("bastion"), app.privateIp, 22)).toBe("open");
        // The worker, in the same subnet and allowed out on 22 by its own group, gets no answer at all...
        expect(tcpFrom(host("worker"), app.privateIp, 22)).toBe("dropped");
        // ...while the app port its group does admit from the VPC answers (nothing listens: refused), so the
        // path is there and it is the group that drops SSH.
        expect(tcpFrom(host("worker"), app.privateIp, 8080)).toBe("refused");
    }, 60_000);

    it("status shows every host up", async () => {
        const status = await labStatus(STACK, dir);
        expect(status.up).toBe(true);
        expect(status.hosts.map((h) => [h.name, h.cloudInit])).toEqual([
            ["bastion", "done"],
            ["app", "done"],
            ["worker", "done"],
        ]);
    }, 60_000);
});
