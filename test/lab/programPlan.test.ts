// The lab's plan of a user's own program (no jumpgate stack config): settings from what the program
// registered, its own instances as hosts with their own user data and key pair, every way of writing a
// security-group rule resolved, and the NoCloud seed EC2's metadata would give them. Pure: no root needed.
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { noCloudSeed } from "../../lab/boot";
import { labPlanFromProgramRun } from "../../lab/fromPlan";
import type { LabHost, LabPlan } from "../../lab/model";
import { rewriteSshConfig } from "../../lab/sshconfig";
import { labTopology } from "../../lab/topology";
import { resolveProgramDir, runEntry } from "../../offline/programDir";
import { OfflineRun, readStackConfig, runOffline } from "../../offline/run";
import { sshKeygen } from "../helpers/labFixture";

const PROGRAM = resolve(__dirname, "../fixtures/labProgram");

describe("the lab's plan of a program that adds jumpgate to hosts of its own", () => {
    let plan: LabPlan;
    const operator = sshKeygen("operator@plan");
    const host = (name: string): LabHost => plan.hosts.find((h) => h.name === name)!;

    let run: OfflineRun;

    beforeAll(async () => {
        // What labPlanForProgram does, keeping the run to plan it more than once.
        const program = resolveProgramDir(PROGRAM);
        run = await runOffline({
            stack: "lp",
            config: {
                ...readStackConfig("lp", program.projectDir),
                "lab-program:allowedCidrs": ["198.51.100.0/24"],
                "lab-program:operatorPublicKey": operator.publicKey,
            },
            project: program.project,
            program: () => runEntry(program.entry),
            keys: "random",
            componentOutputs: ["jumpgate:index:Jumpgate"],
        });
        plan = labPlanFromProgramRun(run, operator.privateKey);
    }, 60_000);

    it("needs the operator's key when the program passes its own, and the component's outputs", () => {
        expect(() => labPlanFromProgramRun(run)).toThrow(/operator's private key.*--identity <file>/);
        expect(() => labPlanFromProgramRun({ ...run, componentOutputs: undefined })).toThrow(
            /exactly one Jumpgate component; this one has 0 \(run it with componentOutputs/,
        );
        // The key the lab holds is not made into a stack output.
        expect(plan.outputs?.privateKeyOpenssh).toBeUndefined();
    });

    it("takes allowedCidrs, the SSH port and the users from the plan, not from a jumpgate stack config", () => {
        expect(plan.allowedCidrs).toEqual(["198.51.100.0/24"]);
        expect([plan.sshPort, plan.jumpUser, plan.loginUser]).toEqual([22, "jump", "admin"]);
        expect(labTopology(plan).peers.find((p) => p.role === "client")!.ip).toMatch(/^198\.51\.100\./);
    });

    it("names the program's instances as its jumpgate hosts, and boots them with their own user data and key", () => {
        expect(plan.hosts.map((h) => [h.name, h.role, h.origin])).toEqual([
            ["bastion", "bastion", undefined],
            ["app", "target", "program"],
            ["worker", "target", "program"],
        ]);
        expect(host("app").cloudInit).toMatch(/^#cloud-config\nhostname: app\n/);
        expect(host("worker").cloudInit).toBe("");
        for (const name of ["app", "worker"]) expect(host(name).publicKeys).toEqual([operator.publicKey]);
        expect(host("bastion").publicKeys).toBeUndefined();
        // The operator's key is the one the lab writes where the client config's IdentityFile points.
        expect(plan.privateKeyOpenssh).toBe(operator.privateKey);
    });

    it("resolves inline group rules and jumpgate's rule on the host's own group to addresses", () => {
        const app = host("app");
        const bastion = host("bastion");
        expect(app.ingress.map((r) => [r.protocol, r.fromPort, r.cidrs])).toEqual([
            ["tcp", 22, [`${bastion.privateIp}/32`]],
            ["tcp", 8080, ["10.60.0.0/16"]],
        ]);
        expect(app.egress.map((r) => r.fromPort)).toEqual([80, 443, 22, 8080]);
        // The bastion may open SSH to exactly the existing hosts' addresses.
        const sshOut = bastion.egress.filter((r) => r.fromPort === 22).flatMap((r) => r.cidrs);
        expect(sshOut).toEqual(expect.arrayContaining([`${app.privateIp}/32`, `${host("worker").privateIp}/32`]));
        expect(app.internetRoute).toBe(true);
        expect(app.natPublicIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    });

    it("gives the key pair as EC2's public-keys metadata, which cloud-init's YAML reads back as written", () => {
        const seed = noCloudSeed({
            instanceId: "i-1",
            hostname: "worker",
            userData: "",
            publicKeys: [operator.publicKey],
        });
        expect(parse(seed["meta-data"])).toEqual({
            "instance-id": "i-1",
            "local-hostname": "worker",
            "public-keys": [operator.publicKey],
        });
        expect(parse(noCloudSeed({ instanceId: "i-1", hostname: "b", userData: "" })["meta-data"])).toEqual({
            "instance-id": "i-1",
            "local-hostname": "b",
        });
    });

    it("keeps an unpinned host's pinned-hosts file in the lab's client config, next to its known_hosts", () => {
        const text = rewriteSshConfig(plan.sshConfig, {
            identityFile: "/tmp/l/key",
            knownHostsFile: "/tmp/l/known_hosts",
            controlDir: "/tmp/l",
        });
        const worker = text.split(/^(?=Host )/m).find((b) => b.startsWith("Host lp-worker\n"))!;
        expect(worker).toMatch(/^\s+UserKnownHostsFile \/tmp\/l\/known_hosts \/tmp\/l\/jumpgate-lp_pinned_hosts$/m);
        expect(text).not.toContain("~/.ssh");
    });
});
