// Team access as hosts see it: the rendered documents trust CA keys, each for one role's principal, never
// an operator's key; a real sshd (this machine's 9.2 and Debian 13's 10.0) lets a role's certificate forward
// only to that role's targets and log in only as that role's account, and with one CA key per role (kms)
// refuses a certificate one role's key issued for another role's principal.
import { ETC_OVERLAY_SCRIPT } from "../helpers/nsEtc";
import { freePort, runAsync, waitForPort } from "../helpers/certSshd";
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
import { parseOpensshEd25519PrivateKey, stackCaSigner } from "../../components/render/caKeys";
import { kmsCaSigner } from "../../cli/kmsSigner";
import { KmsEndpoint, startKmsEndpoint, TEST_AWS_ENV } from "../helpers/kmsEndpoint";
import { certificateLine, issueCertificate } from "../../components/render/certificate";
import { parseCloudConfig, type CloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit, renderTargetCloudInit } from "../../components/render/cloudInit";
import type { BastionHostSpec, TargetHostSpec, UserCaAccess } from "../../components/render/model";
import { AUTHORIZED_CAS_DIR, HOST_KEY_PATH, REVOKED_KEYS_PATH } from "../../components/render/sshd";
import { fixtureKeys, makeKeyPair, sampleBastionSpec, sampleTargetSpec } from "../helpers/renderFixtures";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const CA = makeKeyPair("jumpgate-user-ca");
const ROLES = [
    { name: "admin", sudo: true, reach: ["app-1", "app-2", "tunnel-pg"] },
    { name: "developer", sudo: false, reach: ["app-1"] },
    { name: "dba", sudo: false, reach: ["app-2", "tunnel-pg"] },
];
/** The stack CA: one key vouches for every role. */
const ACCESS: UserCaAccess = { roles: ROLES.map((r) => ({ ...r, caPublicKey: CA.publicKeyOpenssh })) };
/** The kms CA: one key per role (here local keys standing in for the KMS keys). */
const ROLE_CAS = Object.fromEntries(ROLES.map((r) => [r.name, makeKeyPair(`ca-${r.name}`)]));
const PER_ROLE: UserCaAccess = {
    roles: ROLES.map((r) => ({ ...r, caPublicKey: ROLE_CAS[r.name]!.publicKeyOpenssh })),
};
const blob = (line: string) => line.split(" ").slice(0, 2).join(" ");
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
        roles: [
            ...ACCESS.roles,
            { name: "sec", sudo: false, reach: ["app-1"], mfa: "fido2", caPublicKey: CA.publicKeyOpenssh },
        ],
    };
    const sshdOf = (c: CloudConfig) => c.write_files.find((f) => f.path.includes("sshd_config.d"))!.content;

    it("an MFA role's cert-authority lines require a verified user, on the bastion and on its account", () => {
        const ca = blob(CA.publicKeyOpenssh);
        const bastion = parseCloudConfig(renderBastionCloudInit(caBastion({ userCa: MFA })));
        const jump = file(bastion, `${AUTHORIZED_CAS_DIR}/jump`)!.content.split("\n");
        expect(jump).toContain(
            `cert-authority,principals="sec",verify-required,permitopen="10.0.1.20:22" ${ca} jumpgate-ca-sec`,
        );
        expect(jump).toContain(`cert-authority,principals="admin" ${ca} jumpgate-ca-admin`);
        const target = parseCloudConfig(renderTargetCloudInit(caTarget({ userCa: MFA })));
        expect(file(target, `${AUTHORIZED_CAS_DIR}/ops-sec`)?.content).toBe(
            `cert-authority,principals="sec",verify-required ${ca} jumpgate-ca-sec\n`,
        );
        expect(file(target, `${AUTHORIZED_CAS_DIR}/ops-admin`)?.content).toBe(
            `cert-authority,principals="admin" ${ca} jumpgate-ca-admin\n`,
        );
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
    it("hold no operator key: only CA keys, as cert-authority lines in root-owned files, and the host key", () => {
        for (const text of [renderBastionCloudInit(caBastion()), renderTargetCloudInit(caTarget())]) {
            expect(text).not.toContain(fixtureKeys().operator.publicKeyOpenssh.split(" ")[1]);
            expect(text).not.toContain("ssh_authorized_keys");
            const c = parseCloudConfig(text);
            const files = c.write_files.filter((f) => f.path.startsWith(`${AUTHORIZED_CAS_DIR}/`));
            expect(files.length).toBeGreaterThan(0);
            for (const f of files) {
                expect(f).toMatchObject({ owner: "root:root", permissions: "0644" });
                for (const line of f.content.trim().split("\n")) {
                    expect(line).toMatch(
                        /^cert-authority,principals="[a-z-]+"\S* ssh-ed25519 \S+ jumpgate-ca-[a-z-]+$/,
                    );
                    expect(line.split(" ").slice(1, 3).join(" ")).toBe(blob(CA.publicKeyOpenssh));
                }
            }
        }
        expect(() => renderBastionCloudInit(caBastion({ operatorPublicKeys: [CA.publicKeyOpenssh] }))).toThrow(
            /must not list operator keys/,
        );
    });

    it("bastion: one line per role binding its CA to its principal, forwarding narrowed to that role's endpoints", () => {
        const c = parseCloudConfig(renderBastionCloudInit(caBastion({ userCa: PER_ROLE })));
        const key = (role: string) => `${blob(ROLE_CAS[role]!.publicKeyOpenssh)} jumpgate-ca-${role}`;
        expect(file(c, `${AUTHORIZED_CAS_DIR}/jump`)?.content).toBe(
            [
                // Reaching every endpoint of the hop: its PermitOpen already says so.
                `cert-authority,principals="admin" ${key("admin")}`,
                `cert-authority,principals="developer",permitopen="10.0.1.20:22" ${key("developer")}`,
                `cert-authority,principals="dba",permitopen="10.0.2.21:22",permitopen="10.0.2.21:5432" ${key("dba")}`,
                "",
            ].join("\n"),
        );
        expect(users(c).map((u) => u.name)).toEqual(["jump"]);
    });

    it("refuses a role CA key that is not one ssh-ed25519 line", () => {
        const bad = { roles: [{ ...PER_ROLE.roles[0]!, caPublicKey: "ssh-rsa AAAAB3NzaC1yc2E" }] };
        expect(() => renderBastionCloudInit(caBastion({ userCa: bad }))).toThrow(/role admin: the CA public key/);
    });

    it("target: one account per role that reaches it, sudo only where the role has it", () => {
        const app1 = parseCloudConfig(renderTargetCloudInit(caTarget()));
        expect(users(app1).map((u) => [u.name, u.sudo ?? null])).toEqual([
            ["ops-admin", "ALL=(ALL) NOPASSWD:ALL"],
            ["ops-developer", null],
        ]);
        const line = (role: string) =>
            `cert-authority,principals="${role}" ${blob(CA.publicKeyOpenssh)} jumpgate-ca-${role}\n`;
        expect(file(app1, `${AUTHORIZED_CAS_DIR}/ops-admin`)?.content).toBe(line("admin"));
        expect(file(app1, `${AUTHORIZED_CAS_DIR}/ops-developer`)?.content).toBe(line("developer"));
        expect(file(app1, `${AUTHORIZED_CAS_DIR}/ops-dba`)).toBeUndefined();
        const app2 = parseCloudConfig(renderTargetCloudInit(caTarget({ name: "app-2", privateIp: "10.0.2.21" })));
        expect(users(app2).map((u) => u.name)).toEqual(["ops-admin", "ops-dba"]);
    });

    it("without a user CA, the single shared key path is unchanged (the key line restricted to a PTY)", () => {
        const c = parseCloudConfig(renderTargetCloudInit(sampleTargetSpec()));
        expect(users(c).map((u) => [u.name, u.ssh_authorized_keys])).toEqual([
            ["ops", [`restrict,pty ${fixtureKeys().operator.publicKeyOpenssh.trim()}`]],
        ]);
        expect(c.write_files.some((f) => f.path.startsWith(AUTHORIZED_CAS_DIR))).toBe(false);
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
    it("accepts both drop-ins; certificates only, from the root-owned CA file per account, no global CA", () => {
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
                // No CA trusted for every principal: each account's file binds CA keys to principals.
                expect(v).toMatch(/^trustedusercakeys none$/m);
                expect(v).toMatch(/^authorizedprincipalsfile none$/m);
                expect(v).toMatch(new RegExp(`^authorizedkeysfile ${AUTHORIZED_CAS_DIR}/%u$`, "m"));
            }
        } finally {
            for (const h of hosts) rmSync(h.root, { recursive: true, force: true });
        }
    });
});

// ---- a real sshd: certificates per role ----

/** The stack CA (one key for every role), and the kms CA's shape: one key per role. */
const CA_MODES = SSHDS.flatMap((u) => [
    { ...u, ca: "the stack CA", perRole: false },
    { ...u, ca: "a CA key per role", perRole: true },
]);

describe.runIf(haveSshd).each(CA_MODES)(
    "a real sshd takes a role's certificate only where the role reaches, $ca: $label",
    (under) => {
        const access = under.perRole ? PER_ROLE : ACCESS;
        let kms: KmsEndpoint | undefined;
        const savedEnv: Record<string, string | undefined> = {};
        const hosts: NsHost[] = [];
        const daemons: ChildProcess[] = [];
        const echoes: Server[] = [];
        let work: string;
        let bastionPort: number;
        let targetPort: number;
        const echoPorts: Record<string, number> = {};

        /**
         * A key with a certificate for `principal` (ssh-keygen -s, as the CLI's signer would), signed by the
         * stack CA or, with a key per role, by `signer`'s key (by default the principal's own role's).
         */
        function certified(principal: string, signer = principal): string {
            const key = join(work, `id_${principal}_by_${signer}`);
            spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
            const s = spawnSync("ssh-keygen", [
                "-q",
                "-s",
                under.perRole ? join(work, `ca-${ROLE_CAS[signer] ? signer : "admin"}`) : join(work, "ca"),
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
            for (const [role, pair] of Object.entries(ROLE_CAS))
                writeFileSync(join(work, `ca-${role}`), pair.privateKeyOpenssh, { mode: 0o600 });
            if (under.perRole) {
                // The developer role's key held by a KMS stand-in, reached through the real AWS SDK.
                for (const [k, v] of Object.entries(TEST_AWS_ENV)) {
                    savedEnv[k] = process.env[k];
                    process.env[k] = v;
                }
                const developerKey = parseOpensshEd25519PrivateKey(
                    ROLE_CAS.developer!.privateKeyOpenssh,
                    "developer CA",
                );
                kms = await startKmsEndpoint("eu-central-1", "111122223333", developerKey);
            }
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
                    renderBastionCloudInit(
                        caBastion({ os: under.os, targets: endpoints, sshPort: bastionPort, userCa: access }),
                    ),
                ),
                62700,
                bastionPort,
            );
            // Target app-1 (admin and developer reach it; dba does not), listening on loopback.
            await start(
                parseCloudConfig(
                    renderTargetCloudInit(
                        caTarget({
                            os: under.os,
                            privateIp: "127.0.0.1",
                            hopAddresses: ["127.0.0.0/8"],
                            userCa: access,
                        }),
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
            await kms?.close();
            for (const [k, v] of Object.entries(savedEnv)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
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
                stackCaSigner(under.perRole ? ROLE_CAS.developer!.privateKeyOpenssh : CA.privateKeyOpenssh),
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

        it.runIf(under.perRole)(
            "a role's key vouches for its own principal only: a developer-signed admin certificate is refused",
            async () => {
                const via = (key: string, name: string) =>
                    ssh(key, bastionPort, "jump", ["-W", `127.0.0.1:${echoPorts[name]}`, "127.0.0.1"]);
                const login = (key: string, user: string) => ssh(key, targetPort, user, ["127.0.0.1", "id", "-un"]);
                // Whoever may sign with the developer key mints a certificate for principal admin.
                const forged = certified("admin", "developer");
                const bastion = await via(forged, "app-2");
                expect(bastion.stdout).toBe("");
                expect(bastion.stderr).toMatch(/Permission denied/);
                const target = await login(forged, "ops-admin");
                expect(target.stdout).toBe("");
                expect(target.stderr).toMatch(/Permission denied/);
                // Naming both principals gets no more than the signing key's own role: developer's reach.
                const both = join(work, "id_both");
                spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", both]);
                const signed = spawnSync("ssh-keygen", [
                    ...["-q", "-s", join(work, "ca-developer"), "-I", "both", "-n", "admin,developer"],
                    ...["-V", "+5m", `${both}.pub`],
                ]);
                expect(signed.status, String(signed.stderr)).toBe(0);
                expect((await via(both, "app-1")).stdout).toBe("TARGET app-1\n");
                expect((await via(both, "app-2")).stderr).toMatch(/administratively prohibited/);
                expect((await login(both, "ops-admin")).stderr).toMatch(/Permission denied/);
                // The admin key's own certificate for admin is accepted on both.
                const genuine = certified("admin");
                expect((await via(genuine, "app-2")).stdout).toBe("TARGET app-2\n");
                expect((await login(genuine, "ops-admin")).stdout).toBe("ops-admin\n");
            },
        );

        it.runIf(under.perRole)(
            "the developer key in KMS (real AWS SDK, RAW ED25519_SHA_512): its developer certificate logs in, its admin one does not",
            async () => {
                const signer = kmsCaSigner({ keyId: kms!.caKey.arn, region: kms!.region, endpoint: kms!.url });
                expect(await signer.caPublicKey()).toBe(blob(ROLE_CAS.developer!.publicKeyOpenssh));
                const issue = async (principal: string) => {
                    const key = join(work, `id_kms_${principal}`);
                    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
                    const now = Date.now();
                    const spec = {
                        publicKey: readFileSync(`${key}.pub`, "utf8"),
                        serial: 11n,
                        keyId: `jumpgate-test:bob-${principal}`,
                        principals: [principal],
                        validAfter: new Date(now - 60_000),
                        validBefore: new Date(now + 300_000),
                    };
                    const issued = await issueCertificate(spec, signer);
                    writeFileSync(`${key}-cert.pub`, certificateLine(issued.certificate, "bob"));
                    return key;
                };
                const developer = await issue("developer");
                const viaApp1 = await ssh(developer, bastionPort, "jump", [
                    "-W",
                    `127.0.0.1:${echoPorts["app-1"]}`,
                    "127.0.0.1",
                ]);
                expect(viaApp1.stdout).toBe("TARGET app-1\n");
                expect((await ssh(developer, targetPort, "ops-developer", ["127.0.0.1", "id", "-un"])).stdout).toBe(
                    "ops-developer\n",
                );
                const admin = await issue("admin");
                expect((await ssh(admin, targetPort, "ops-admin", ["127.0.0.1", "id", "-un"])).stderr).toMatch(
                    /Permission denied/,
                );
                const viaApp2 = await ssh(admin, bastionPort, "jump", [
                    "-W",
                    `127.0.0.1:${echoPorts["app-2"]}`,
                    "127.0.0.1",
                ]);
                expect(viaApp2.stderr).toMatch(/Permission denied/);
                expect(kms!.requests.filter((r) => r.target === "TrentService.Sign")).toHaveLength(2);
            },
        );
    },
);
