// End to end: the program's own bastion document boots a real Debian 13 system (systemd as PID 1
// under systemd-nspawn, in the bastion's network namespace), and cloud-init, sshd and fail2ban do
// what the document says, from their own units. Runs as root; in CI a missing tool fails the suite.
// Stack `boot`: no other test uses it, so its namespace names collide with nothing on this machine.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kexAlgorithms } from "../../components/render/crypto";
import { bootHost, cgroupPids, execIn, stopHost, waitReady, type BootedHost, type Readiness } from "../../lab/boot";
import { pidAlive, runIn, sleep } from "../../lab/exec";
import { renderNftRuleset } from "../../lab/firewall";
import type { LabHost, LabPlan } from "../../lab/model";
import { createNetwork, deleteNamespaces, listNamespaces, loadNftRuleset } from "../../lab/netns";
import { startMirror } from "../../lab/mirror";
import { ensureLabRoot, labEtcHosts, type LabRoot } from "../../lab/rootfs";
import { stopPids } from "../../lab/daemons";
import { labTopology, peer, type LabTopology } from "../../lab/topology";
import { programLabPlan } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const STACK = "boot";
const gate =
    isRootOrFail() &&
    toolsAvailable("debootstrap", "zstd", "systemd-nspawn", "nsenter", "ip", "nft", "ssh-keyscan", "mount");

/** What a stopped host must not leave on the machine. */
function leftovers(h: BootedHost, topo: LabTopology): string[] {
    const found: string[] = [];
    const namespaces = new Set(listNamespaces());
    for (const ns of topo.namespaces) if (namespaces.has(ns)) found.push(`namespace ${ns}`);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    if (mounts.includes(h.hostDir)) found.push(`a mount under ${h.hostDir}`);
    for (const c of h.cgroups) if (existsSync(c)) found.push(`cgroup ${c}`);
    // (A zombie whose parent is gone counts as gone: reaping it is the init system's job.)
    for (const p of [h.nspawnPid, h.leaderPid]) if (p > 0 && pidAlive(p)) found.push(`process ${p}`);
    for (const p of cgroupPids(h.cgroups)) found.push(`process ${p} in the cgroups`);
    const propagate = `/run/systemd/nspawn/propagate/${h.machine}`;
    if (existsSync(propagate)) found.push(propagate);
    for (const d of ["merged", "upper", "work"]) if (existsSync(join(h.hostDir, d))) found.push(join(h.hostDir, d));
    return found;
}

describe.runIf(gate)("a lab host boots the program's bastion document on Debian 13", () => {
    let root: LabRoot;
    let plan: LabPlan;
    let bastion: LabHost;
    let topo: LabTopology;
    let host: BootedHost;
    let ready: Readiness;
    let dir: string;
    let mirrorPid = 0;

    beforeAll(async () => {
        root = ensureLabRoot((l) => console.log(l));
        plan = await programLabPlan({ stack: STACK });
        const found = plan.hosts.find((h) => h.role === "bastion");
        if (!found) throw new Error("the program planned no bastion");
        bastion = found;
        // Only the bastion boots: its namespace, the public segment and the peers.
        topo = labTopology({ ...plan, hosts: [bastion] });
        deleteNamespaces(topo.namespaces); // a run killed earlier may have left them
        createNetwork(topo);
        const node = topo.hosts[0];
        loadNftRuleset(node.ns, renderNftRuleset(bastion));
        dir = mkdtempSync(join(tmpdir(), "jg-boot-"));
        mirrorPid = await startMirror({
            ns: topo.inetNs,
            tree: root.mirrorTree,
            addresses: [topo.mirrorIp],
            logFile: join(dir, "mirror.log"),
        });
        const t0 = Date.now();
        host = await bootHost({
            machine: node.ns,
            ns: node.ns,
            hostDir: join(dir, bastion.name),
            rootDir: root.rootDir,
            userData: bastion.cloudInit,
            instanceId: `i-lab-${STACK}-${bastion.name}`,
            hostname: bastion.name,
            etcHosts: labEtcHosts(root.rootDir, bastion.name, { host: root.mirrorHost, ip: topo.mirrorIp }),
        });
        ready = waitReady(host);
        console.log(
            `boot: root unpack ${root.unpackMs} ms, boot to ready ${Date.now() - t0} ms ` +
                `(cloud-init ${ready.cloudInit.code}, system ${ready.system})`,
        );
    }, 900_000);

    afterAll(async () => {
        if (host) await stopHost(host);
        if (mirrorPid) await stopPids([mirrorPid]);
        if (topo) deleteNamespaces(topo.namespaces);
        if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it("runs systemd as PID 1 on Debian 13", () => {
        expect(execIn(host, "cat", ["/proc/1/comm"]).stdout.trim()).toBe("systemd");
        expect(execIn(host, "cat", ["/etc/debian_version"]).stdout).toMatch(/^13\./);
        expect(ready.system).toMatch(/^(running|degraded)$/);
    });

    it("cloud-init applied the user data with no errors", () => {
        expect(ready.cloudInit.text).toMatch(/status: done/);
        expect(ready.cloudInit.code, ready.cloudInit.text).toBe(0);
        const seeded = execIn(host, "cat", ["/var/lib/cloud/seed/nocloud/user-data"]).stdout;
        expect(seeded).toBe(bastion.cloudInit);
        expect(execIn(host, "id", ["-nG", plan.jumpUser]).stdout).toMatch(/jumpgate-jump/);
    });

    it("the first boot's package_update verified Debian's signed index from the lab mirror, via its public leg", () => {
        const log = readFileSync(join(dir, "mirror.log"), "utf8");
        expect(log).toContain(` ${bastion.publicIp} GET /debian/dists/trixie/InRelease 200`);
        const lists = execIn(host, "ls", ["/var/lib/apt/lists"]).stdout.split("\n");
        expect(lists).toContain(`${root.mirrorHost}_debian_dists_trixie_InRelease`);
    });

    it("sshd presents the pinned host key to the internet", () => {
        const hostile = peer(topo, "hostile");
        if (!hostile || !bastion.publicIp) throw new Error("no hostile peer or public address in the topology");
        const scan = runIn(hostile.ns, "ssh-keyscan", ["-T", "10", "-t", "ed25519", bastion.publicIp]).stdout;
        const presented = scan.split("\n").find((l) => l.includes(" ssh-ed25519 "));
        const pinned = plan.knownHosts.split("\n").find((l) => l.startsWith(`${STACK}-bastion `));
        expect(presented?.split(" ").slice(1).join(" ")).toBe(pinned?.split(" ").slice(1).join(" "));
    });

    it("sshd and fail2ban run from their systemd units", () => {
        const units = execIn(host, "systemctl", ["is-active", "ssh.service", "fail2ban.service"], { check: false });
        expect(units.stdout.trim().split("\n")).toEqual(["active", "active"]);
    });

    it("sshd 10 serves what the program rendered for Debian 13: post-quantum key exchange first", () => {
        expect(execIn(host, "ssh", ["-V"]).stderr).toMatch(/^OpenSSH_10\./);
        const effective = execIn(host, "/usr/sbin/sshd", ["-T"]).stdout;
        const kex = /^kexalgorithms (.*)$/m.exec(effective)?.[1]?.split(",");
        expect(kex).toEqual([...kexAlgorithms("debian-13", "compatible")]);
        // The client that comes with the OS negotiates it (over loopback, which fail2ban ignores).
        const probe = execIn(
            host,
            "ssh",
            [
                "-v",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-p",
                String(plan.sshPort),
                "nobody@127.0.0.1",
                "true",
            ],
            { check: false },
        );
        expect(probe.stderr).toContain("kex: algorithm: mlkem768x25519-sha256");
    });

    it("fail2ban's sshd jail reads the journal and counts a failed login", async () => {
        const dump = execIn(host, "fail2ban-client", ["-d"]).stdout;
        expect(dump).toMatch(/\['add', 'sshd', 'systemd'\]/);
        const hostile = peer(topo, "hostile");
        if (!hostile || !bastion.publicIp) throw new Error("no hostile peer or public address in the topology");
        runIn(
            hostile.ns,
            "ssh",
            [
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "ConnectTimeout=10",
                `nosuchuser@${bastion.publicIp}`,
                "true",
            ],
            { check: false, timeoutMs: 20_000 },
        );
        let failed = 0;
        for (let i = 0; i < 40 && failed === 0; i++) {
            const status = execIn(host, "fail2ban-client", ["status", "sshd"]).stdout;
            failed = Number(/Total failed:\s*(\d+)/.exec(status)?.[1] ?? "0");
            if (failed === 0) await sleep(250);
        }
        expect(failed).toBeGreaterThan(0);
    });

    it("stopping leaves no namespace, mount, cgroup, process or file behind", async () => {
        await stopHost(host);
        await stopPids([mirrorPid]);
        deleteNamespaces(topo.namespaces);
        expect(leftovers(host, topo)).toEqual([]);
        expect(pidAlive(mirrorPid)).toBe(false);
    }, 60_000);

    it("a failed boot leaves nothing behind either", async () => {
        const empty = mkdtempSync(join(dir, "not-an-os-"));
        const failTopo = labTopology({ ...plan, hosts: [bastion] });
        createNetwork(failTopo);
        const ns = failTopo.hosts[0].ns;
        const hostDir = join(dir, "broken");
        let error = "";
        try {
            await bootHost({
                machine: ns,
                ns,
                hostDir,
                rootDir: empty,
                userData: bastion.cloudInit,
                instanceId: "i-lab-broken",
                hostname: "broken",
            });
        } catch (err) {
            error = err instanceof Error ? err.message : String(err);
        } finally {
            deleteNamespaces(failTopo.namespaces);
        }
        expect(error).toMatch(/systemd-nspawn .* exited|no init process/);
        const cgroups = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"].map((h) => join(h, ns));
        const h: BootedHost = {
            ...host,
            hostDir,
            merged: join(hostDir, "merged"),
            cgroups,
            nspawnPid: 0,
            leaderPid: 0,
        };
        expect(leftovers(h, failTopo)).toEqual([]);
    }, 60_000);
});
