// Team access as hosts see it: the rendered documents trust the stack's user CA, never an operator's key,
// and a real sshd (this machine's 9.2) lets a role's certificate forward only to that role's targets and
// log in only as that role's account.
import { ETC_OVERLAY_SCRIPT } from "../helpers/nsEtc";
import { debian13Root as debian13RootDir } from "../helpers/debian13";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
    chmodSync,
    chownSync,
    copyFileSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    rmSync,
    writeFileSync,
} from "node:fs";
import { createServer, connect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackCaSigner } from "../../components/render/caKeys";
import { certificateLine, issueCertificate } from "../../components/render/certificate";
import { parseCloudConfig, type CloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit, renderTargetCloudInit } from "../../components/render/cloudInit";
import type { BastionHostSpec, TargetHostSpec, UserCaAccess } from "../../components/render/model";
import { HOST_KEY_PATH, PRINCIPALS_DIR, REVOKED_KEYS_PATH, USER_CA_PATH } from "../../components/render/sshd";
import { fixtureKeys, makeKeyPair, sampleBastionSpec, sampleTargetSpec } from "../helpers/renderFixtures";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const CA = makeKeyPair("jumpgate-user-ca");
const ACCESS: UserCaAccess = {
    caPublicKey: CA.publicKeyOpenssh,
    roles: [
        { name: "admin", sudo: true, reach: ["app-1", "app-2", "tunnel-pg"] },
        { name: "developer", sudo: false, reach: ["app-1"] },
        { name: "dba", sudo: false, reach: ["app-2", "tunnel-pg"] },
    ],
};
const BASTION_TARGETS = [
    { name: "app-1", privateIp: "10.0.1.20", port: 22 },
    { name: "app-2", privateIp: "10.0.2.21", port: 22 },
    { name: "tunnel-pg", privateIp: "10.0.2.21", port: 5432 },
];

const caBastion = (o: Partial<BastionHostSpec> = {}) =>
    sampleBastionSpec({ operatorPublicKeys: [], userCa: ACCESS, targets: BASTION_TARGETS, ...o });
const caTarget = (o: Partial<TargetHostSpec> = {}) =>
    sampleTargetSpec({ operatorPublicKeys: [], userCa: ACCESS, ...o });
const file = (c: CloudConfig, path: string) => c.write_files.find((f) => f.path === path);
const users = (c: CloudConfig) => c.users.filter((u) => u !== "default");

describe("FIDO2 roles and the KRL in the documents", () => {
    const MFA: UserCaAccess = {
        ...ACCESS,
        roles: [...ACCESS.roles, { name: "sec", sudo: false, reach: ["app-1"], mfa: "fido2" }],
    };
    const sshdOf = (c: CloudConfig) => c.write_files.find((f) => f.path.includes("sshd_config.d"))!.content;

    it("an MFA role's principals lines require a verified user, on the bastion and on its account", () => {
        const bastion = parseCloudConfig(renderBastionCloudInit(caBastion({ userCa: MFA })));
        const jump = file(bastion, `${PRINCIPALS_DIR}/jump`)!.content.split("\n");
        expect(jump).toContain('verify-required,permitopen="10.0.1.20:22" sec');
        expect(jump).toContain("admin");
        const target = parseCloudConfig(renderTargetCloudInit(caTarget({ userCa: MFA })));
        expect(file(target, `${PRINCIPALS_DIR}/ops-sec`)?.content).toBe("verify-required sec\n");
        expect(file(target, `${PRINCIPALS_DIR}/ops-admin`)?.content).toBe("admin\n");
    });

    it("an MFA role's account on a target takes FIDO certificates only, each verified; other accounts are as before", () => {
        const drop = sshdOf(parseCloudConfig(renderTargetCloudInit(caTarget({ userCa: MFA }))));
        expect(drop).toMatch(
            /^Match User ops-sec\n {4}PubkeyAcceptedAlgorithms sk-ssh-ed25519-cert-v01@openssh.com\n {4}PubkeyAuthOptions verify-required$/m,
        );
        expect(drop.match(/^Match /gm)).toHaveLength(1);
        // A target the role does not reach has no account for it, and no Match block.
        const other = sshdOf(parseCloudConfig(renderTargetCloudInit(caTarget({ userCa: MFA, name: "app-2" }))));
        expect(other).not.toContain("Match User");
    });

    it("the bastion checks a KRL that user data installs empty; targets have none", () => {
        const bastion = parseCloudConfig(renderBastionCloudInit(caBastion()));
        expect(file(bastion, REVOKED_KEYS_PATH)).toMatchObject({ content: "", permissions: "0644" });
        expect(sshdOf(bastion)).toContain(`RevokedKeys ${REVOKED_KEYS_PATH}`);
        const target = parseCloudConfig(renderTargetCloudInit(caTarget()));
        expect(file(target, REVOKED_KEYS_PATH)).toBeUndefined();
        expect(sshdOf(target)).not.toContain("RevokedKeys");
    });
});

describe("documents with a user CA", () => {
    it("hold no operator key: only the CA's public key and the host key", () => {
        for (const text of [renderBastionCloudInit(caBastion()), renderTargetCloudInit(caTarget())]) {
            expect(text).not.toContain(fixtureKeys().operator.publicKeyOpenssh.split(" ")[1]);
            expect(text).not.toContain("ssh_authorized_keys");
            const c = parseCloudConfig(text);
            expect(file(c, USER_CA_PATH)?.content).toBe(`${CA.publicKeyOpenssh}\n`);
            expect(file(c, USER_CA_PATH)?.permissions).toBe("0644");
        }
        expect(() => renderBastionCloudInit(caBastion({ operatorPublicKeys: [CA.publicKeyOpenssh] }))).toThrow(
            /must not list operator keys/,
        );
    });

    it("bastion: one principals line per role, forwarding narrowed to exactly that role's endpoints", () => {
        const c = parseCloudConfig(renderBastionCloudInit(caBastion()));
        expect(file(c, `${PRINCIPALS_DIR}/jump`)?.content).toBe(
            [
                // Reaching every endpoint of the hop: its PermitOpen already says so.
                "admin",
                'permitopen="10.0.1.20:22" developer',
                'permitopen="10.0.2.21:22",permitopen="10.0.2.21:5432" dba',
                "",
            ].join("\n"),
        );
        expect(users(c).map((u) => u.name)).toEqual(["jump"]);
    });

    it("target: one account per role that reaches it, sudo only where the role has it", () => {
        const app1 = parseCloudConfig(renderTargetCloudInit(caTarget()));
        expect(users(app1).map((u) => [u.name, u.sudo ?? null])).toEqual([
            ["ops-admin", "ALL=(ALL) NOPASSWD:ALL"],
            ["ops-developer", null],
        ]);
        expect(file(app1, `${PRINCIPALS_DIR}/ops-admin`)?.content).toBe("admin\n");
        expect(file(app1, `${PRINCIPALS_DIR}/ops-developer`)?.content).toBe("developer\n");
        expect(file(app1, `${PRINCIPALS_DIR}/ops-dba`)).toBeUndefined();
        const app2 = parseCloudConfig(renderTargetCloudInit(caTarget({ name: "app-2", privateIp: "10.0.2.21" })));
        expect(users(app2).map((u) => u.name)).toEqual(["ops-admin", "ops-dba"]);
    });

    it("without a user CA, the single shared key path is unchanged", () => {
        const c = parseCloudConfig(renderTargetCloudInit(sampleTargetSpec()));
        expect(users(c).map((u) => [u.name, u.ssh_authorized_keys])).toEqual([
            ["ops", [fixtureKeys().operator.publicKeyOpenssh]],
        ]);
        expect(file(c, USER_CA_PATH)).toBeUndefined();
    });
});

describe.runIf(toolsAvailable("cloud-init"))("cloud-init schema on the user CA documents", () => {
    it("cloud-init schema -c accepts the bastion's and the targets' documents", () => {
        const work = mkdtempSync(join(tmpdir(), "jgt-team-ci-"));
        try {
            const docs = {
                bastion: renderBastionCloudInit(caBastion()),
                "app-1": renderTargetCloudInit(caTarget()),
                "app-2": renderTargetCloudInit(caTarget({ name: "app-2", privateIp: "10.0.2.21" })),
            };
            for (const [name, doc] of Object.entries(docs)) {
                const path = join(work, `${name}.yaml`);
                writeFileSync(path, doc);
                const r = spawnSync("cloud-init", ["schema", "-c", path], { encoding: "utf8", timeout: 60_000 });
                expect(r.stdout + r.stderr, name).toContain("Valid cloud-config");
                expect(r.status, name).toBe(0);
            }
        } finally {
            rmSync(work, { recursive: true, force: true });
        }
    });
});

// ---- a host laid out from a document in a private mount namespace (as in sshd.test.ts) ----

const haveSshd = toolsAvailable("sshd", "ssh", "ssh-keygen", "unshare", "mount") && isRootOrFail();

interface NsHost {
    root: string;
    run(cmd: string[]): ReturnType<typeof spawnSync>;
    spawn(cmd: string[]): ChildProcess;
}

/**
 * OpenSSH 10.0 (Debian 13) is not this machine's sshd: the lab's cached Debian 13 root, its sshd runs chrooted there, with the same /etc/ssh and users bind-mounted in.
 */
const debian13Root = debian13RootDir();
const CHROOT_SCRIPT = [
    "set -e",
    'r="$1"; t="$2"; shift 2',
    'mount --bind "$r/etc/ssh" "$t/etc/ssh"',
    'for f in passwd group shadow; do mount --bind "$r/$f" "$t/etc/$f"; done',
    'mount -t tmpfs jgt-run "$t/run" && mkdir "$t/run/sshd"',
    'mount --rbind /dev "$t/dev" && mount -t proc jgt-proc "$t/proc"',
    'exec chroot "$t" "$@"',
].join("\n");

/** Which sshd judges: this machine's (Debian 12, 9.2), or a Debian 13 root's (10.0) when one is given. */
interface SshdUnderTest {
    label: string;
    os: "debian-12" | "debian-13";
    chroot?: string;
}
const SSHDS: SshdUnderTest[] = [
    { label: "OpenSSH 9.2 (this machine, Debian 12)", os: "debian-12" },
    ...(debian13Root === undefined
        ? []
        : [{ label: "OpenSSH 10.0 (Debian 13 root)", os: "debian-13" as const, chroot: debian13Root }]),
];

/** /etc/ssh (Debian's sshd_config plus the document's files), and the document's users and groups. */
function buildHost(config: CloudConfig, firstId: number, chroot?: string): NsHost {
    const root = mkdtempSync(join(tmpdir(), "jgt-team-"));
    chmodSync(root, 0o755);
    mkdirSync(join(root, "etc/ssh"), { recursive: true });
    copyFileSync("/etc/ssh/sshd_config", join(root, "etc/ssh/sshd_config"));
    for (const f of config.write_files.filter((w) => w.path.startsWith("/etc/ssh/"))) {
        mkdirSync(dirname(join(root, f.path)), { recursive: true });
        writeFileSync(join(root, f.path), f.content, { mode: parseInt(f.permissions ?? "0644", 8) });
    }
    writeFileSync(join(root, HOST_KEY_PATH), config.ssh_keys?.ed25519_private ?? "", { mode: 0o600 });
    const listed = users(config);
    const names = new Set([...(config.groups as string[]), ...listed.map((u) => u.name)]);
    const keep = (f: string) =>
        readFileSync(f, "utf8")
            .split("\n")
            .filter((l) => l !== "" && !names.has(l.split(":")[0] ?? ""));
    const [passwd, group, shadow] = [keep("/etc/passwd"), keep("/etc/group"), keep("/etc/shadow")];
    listed.forEach((u, i) => {
        const id = firstId + i;
        const home = join(root, "home", u.name);
        mkdirSync(home, { recursive: true });
        chownSync(home, id, id);
        passwd.push(`${u.name}:x:${id}:${id}::${home}:${u.shell ?? "/bin/sh"}`);
        group.push(`${u.name}:x:${id}:`);
        shadow.push(`${u.name}:!:19000:0:99999:7:::`); // what lock_passwd: true leaves
    });
    chmodSync(join(root, "home"), 0o755);
    (config.groups as string[]).forEach((g, i) => {
        const members = listed.filter((u) => (u.groups ?? "").split(",").includes(g)).map((u) => u.name);
        group.push(`${g}:x:${firstId + 50 + i}:${members.join(",")}`);
    });
    writeFileSync(join(root, "passwd"), `${passwd.join("\n")}\n`, { mode: 0o644 });
    writeFileSync(join(root, "group"), `${group.join("\n")}\n`, { mode: 0o644 });
    writeFileSync(join(root, "shadow"), `${shadow.join("\n")}\n`, { mode: 0o640 });
    const ns = (cmd: string[]) =>
        chroot === undefined
            ? ["--mount", "--propagation", "private", "--", "sh", "-c", ETC_OVERLAY_SCRIPT, "sh", root, ...cmd]
            : ["--mount", "--propagation", "private", "--", "sh", "-c", CHROOT_SCRIPT, "sh", root, chroot, ...cmd];
    return {
        root,
        run: (cmd) => spawnSync("unshare", ns(cmd), { encoding: "utf8", timeout: 15_000 }),
        spawn: (cmd) => spawn("unshare", ns(cmd), { stdio: ["ignore", "ignore", "pipe"] }),
    };
}

const localSshd = () => spawnSync("sh", ["-c", "command -v sshd"], { encoding: "utf8" }).stdout.trim();
/** sshd refuses to re-exec unless started by absolute path. */
const sshdPath = (under: SshdUnderTest) => (under.chroot === undefined ? localSshd() : "/usr/sbin/sshd");

function effective(host: NsHost, under: SshdUnderTest, user: string): string {
    const r = host.run([sshdPath(under), "-T", "-C", `user=${user},addr=198.51.100.7,host=x,laddr=10.0.0.10,lport=22`]);
    expect(r.status, String(r.stderr)).toBe(0);
    return String(r.stdout);
}

describe.runIf(haveSshd).each(SSHDS)("sshd -t / -T with a user CA: $label", (under) => {
    it("accepts both drop-ins; certificates only, principals per account, no authorized_keys", () => {
        mkdirSync("/run/sshd", { recursive: true });
        const hosts = [
            buildHost(parseCloudConfig(renderBastionCloudInit(caBastion({ os: under.os }))), 62500, under.chroot),
            buildHost(parseCloudConfig(renderTargetCloudInit(caTarget({ os: under.os }))), 62600, under.chroot),
        ];
        try {
            for (const [h, user] of [
                [hosts[0]!, "jump"],
                [hosts[1]!, "ops-developer"],
            ] as const) {
                const t = h.run([sshdPath(under), "-t"]);
                expect(String(t.stderr)).toBe("");
                expect(t.status).toBe(0);
                const v = effective(h, under, user);
                expect(v).toMatch(new RegExp(`^trustedusercakeys ${USER_CA_PATH}$`, "m"));
                expect(v).toMatch(new RegExp(`^authorizedprincipalsfile ${PRINCIPALS_DIR}/%u$`, "m"));
                expect(v).toMatch(/^authorizedkeysfile none$/m);
            }
        } finally {
            for (const h of hosts) rmSync(h.root, { recursive: true, force: true });
        }
    });
});

// ---- a real sshd: certificates per role ----

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as { port: number }).port;
            s.close(() => resolve(port));
        });
    });
}

async function waitForPort(port: number, p: ChildProcess, log: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
        if (p.exitCode !== null) throw new Error(`sshd exited early:\n${log()}`);
        const up = await new Promise<boolean>((resolve) => {
            const c = connect({ host: "127.0.0.1", port });
            c.once("connect", () => (c.destroy(), resolve(true)));
            c.once("error", () => resolve(false));
        });
        if (up) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sshd did not listen on ${port}:\n${log()}`);
}

function runAsync(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
        p.once("error", (e) => (clearTimeout(timer), reject(e)));
        p.once("close", (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
    });
}

describe.runIf(haveSshd).each(SSHDS)(
    "a real sshd takes a role's certificate only where the role reaches: $label",
    (under) => {
        const hosts: NsHost[] = [];
        const daemons: ChildProcess[] = [];
        const echoes: Server[] = [];
        let work: string;
        let bastionPort: number;
        let targetPort: number;
        const echoPorts: Record<string, number> = {};

        /** A key with a certificate from the stack CA for `principal` (ssh-keygen -s, as the CLI's signer would). */
        function certified(principal: string): string {
            const key = join(work, `id_${principal}`);
            spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
            const s = spawnSync("ssh-keygen", [
                "-q",
                "-s",
                join(work, "ca"),
                "-I",
                `alice-${principal}`,
                "-n",
                principal,
                "-V",
                "+5m",
                `${key}.pub`,
            ]);
            expect(s.status, String(s.stderr)).toBe(0);
            return key;
        }

        async function start(config: CloudConfig, firstId: number, port: number): Promise<void> {
            const h = buildHost(config, firstId, under.chroot);
            hosts.push(h);
            const d = h.spawn([
                sshdPath(under),
                "-D",
                "-e",
                "-o",
                "ListenAddress=127.0.0.1",
                "-o",
                `Port=${port}`,
                "-o",
                "PidFile=none",
            ]);
            let log = "";
            d.stderr?.on("data", (b: Buffer) => (log += b.toString()));
            daemons.push(d);
            await waitForPort(port, d, () => log);
        }

        beforeAll(async () => {
            mkdirSync("/run/sshd", { recursive: true });
            work = mkdtempSync(join(tmpdir(), "jgt-team-work-"));
            writeFileSync(join(work, "ca"), CA.privateKeyOpenssh, { mode: 0o600 });
            for (const name of ["app-1", "app-2"]) {
                const echo = createServer((s) => s.end(`TARGET ${name}\n`));
                echoes.push(echo);
                await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
                echoPorts[name] = (echo.address() as { port: number }).port;
            }
            bastionPort = await freePort();
            targetPort = await freePort();
            const endpoints = ["app-1", "app-2"].map((name) => ({
                name,
                privateIp: "127.0.0.1",
                port: echoPorts[name]!,
            }));
            await start(
                parseCloudConfig(
                    renderBastionCloudInit(caBastion({ os: under.os, targets: endpoints, sshPort: bastionPort })),
                ),
                62700,
                bastionPort,
            );
            // Target app-1 (admin and developer reach it; dba does not), listening on loopback.
            await start(
                parseCloudConfig(
                    renderTargetCloudInit(
                        caTarget({ os: under.os, privateIp: "127.0.0.1", hopAddresses: ["127.0.0.0/8"] }),
                    ),
                ),
                62800,
                targetPort,
            );
            const known = (c: CloudConfig, port: number) => `[127.0.0.1]:${port} ${c.ssh_keys?.ed25519_public ?? ""}\n`;
            writeFileSync(
                join(work, "known_hosts"),
                known(parseCloudConfig(renderBastionCloudInit(caBastion())), bastionPort) +
                    known(parseCloudConfig(renderTargetCloudInit(caTarget())), targetPort),
            );
        });

        afterAll(async () => {
            for (const d of daemons) if (d.exitCode === null) d.kill("SIGTERM");
            for (const e of echoes) e.close();
            for (const h of hosts) rmSync(h.root, { recursive: true, force: true });
            if (work) rmSync(work, { recursive: true, force: true });
        });

        const ssh = (key: string, port: number, user: string, rest: string[]) =>
            runAsync("ssh", [
                ...["-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"],
                ...["-o", `UserKnownHostsFile=${join(work, "known_hosts")}`, "-o", "GlobalKnownHostsFile=/dev/null"],
                ...["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"],
                ...["-p", String(port), "-l", user, ...rest],
            ]);

        it("is the sshd under test (its version banner)", async () => {
            const banner = await new Promise<string>((resolve, reject) => {
                const c = connect({ host: "127.0.0.1", port: bastionPort });
                c.once("data", (d: Buffer) => (c.destroy(), resolve(d.toString())));
                c.once("error", reject);
            });
            expect(banner).toMatch(under.chroot === undefined ? /^SSH-2\.0-OpenSSH_9\.2/ : /^SSH-2\.0-OpenSSH_10\./);
        });

        it("bastion: each role forwards to its own targets and is refused the others", async () => {
            const reach: Record<string, string[]> = { admin: ["app-1", "app-2"], developer: ["app-1"], dba: ["app-2"] };
            for (const [role, allowed] of Object.entries(reach)) {
                const key = certified(role);
                for (const name of ["app-1", "app-2"]) {
                    const r = await ssh(key, bastionPort, "jump", ["-W", `127.0.0.1:${echoPorts[name]}`, "127.0.0.1"]);
                    if (allowed.includes(name)) {
                        expect(r.stdout, `${role} -> ${name}: ${r.stderr}`).toBe(`TARGET ${name}\n`);
                    } else {
                        expect(r.stdout, `${role} -> ${name}`).toBe("");
                        expect(r.stderr, `${role} -> ${name}`).toMatch(/administratively prohibited/);
                    }
                }
            }
        });

        it("a certificate from jumpgate's own stack-CA signer (as login issues it) works the same", async () => {
            const key = join(work, "id_signed");
            spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
            const now = Date.now();
            const issued = await issueCertificate(
                {
                    publicKey: readFileSync(`${key}.pub`, "utf8"),
                    serial: 7n,
                    keyId: "alice",
                    principals: ["developer"],
                    validAfter: new Date(now - 60_000),
                    validBefore: new Date(now + 300_000),
                },
                stackCaSigner(CA.privateKeyOpenssh),
            );
            writeFileSync(`${key}-cert.pub`, certificateLine(issued.certificate, "alice"));
            const via = (name: string) =>
                ssh(key, bastionPort, "jump", ["-W", `127.0.0.1:${echoPorts[name]}`, "127.0.0.1"]);
            expect((await via("app-1")).stdout).toBe("TARGET app-1\n");
            expect((await via("app-2")).stderr).toMatch(/administratively prohibited/);
            expect((await ssh(key, targetPort, "ops-developer", ["127.0.0.1", "id", "-un"])).stdout).toBe(
                "ops-developer\n",
            );
        });

        it("bastion: a plain key, or a certificate for an unknown principal, does not log in", async () => {
            const plain = join(work, "id_plain");
            spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", plain]);
            const intruder = certified("intruder");
            for (const key of [plain, intruder]) {
                const r = await ssh(key, bastionPort, "jump", ["-W", `127.0.0.1:${echoPorts["app-1"]}`, "127.0.0.1"]);
                expect(r.stderr).toMatch(/Permission denied/);
            }
        });

        it("target: a role logs in as its own account only, and only roles that reach the target have one", async () => {
            const admin = certified("admin");
            const developer = certified("developer");
            const dba = certified("dba");
            const login = (key: string, user: string) => ssh(key, targetPort, user, ["127.0.0.1", "id", "-un"]);
            expect((await login(admin, "ops-admin")).stdout).toBe("ops-admin\n");
            expect((await login(developer, "ops-developer")).stdout).toBe("ops-developer\n");
            // A developer certificate does not open the admin account (the one with sudo).
            expect((await login(developer, "ops-admin")).stderr).toMatch(/Permission denied/);
            // dba does not reach app-1: no account, no principals file.
            expect((await login(dba, "ops-dba")).stderr).toMatch(/Permission denied/);
            expect((await login(dba, "ops-developer")).stderr).toMatch(/Permission denied/);
        });
    },
);
