// The rendered sshd drop-ins, proven with the real OpenSSH 9.2 tools. Every file sshd reads comes out
// of the rendered #cloud-config document (drop-in, banner, pinned host key, users and their keys) and
// is laid out as cloud-init would lay it out, under Debian's own /etc/ssh/sshd_config. The host's /etc
// is never touched: sshd runs in a private mount namespace where that tree, and passwd/group/shadow
// with the document's users, are bind-mounted over /etc.
import { ETC_OVERLAY_SCRIPT } from "../helpers/nsEtc";
import { debian13Root as debian13RootDir } from "../helpers/debian13";
import { OS_RELEASES } from "../../components/render/os";
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import {
    chmodSync,
    chownSync,
    copyFileSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    rmSync,
    writeFileSync,
} from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileAt, parseCloudConfig, type CloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit, renderTargetCloudInit } from "../../components/render/cloudInit";
import {
    CIPHERS,
    HOST_KEY_ALGORITHMS,
    KEX_ALGORITHMS,
    MACS,
    PUBKEY_ACCEPTED_ALGORITHMS,
    REQUIRED_RSA_SIZE,
} from "../../components/render/crypto";
import { FAIL2BAN_JAIL_PATH } from "../../components/render/fail2ban";
import type { BastionHostSpec, TargetHostSpec } from "../../components/render/model";
import {
    BANNER_PATH,
    BASTION_LOGIN_GRACE_TIME,
    BASTION_PER_SOURCE_PENALTIES,
    BEHIND_HOP_MAX_STARTUPS,
    BEHIND_HOP_PER_SOURCE_MAX_STARTUPS,
    HOST_KEY_PATH,
    JUMP_CHANNEL_TIMEOUT,
    JUMP_GROUP,
    LOGIN_GROUP,
    LOGIN_GRACE_TIME,
    MAX_STARTUPS,
    NOLOGIN,
    PER_SOURCE_MAX_STARTUPS,
    SSHD_DROPIN_PATH,
    renderBastionSshd,
    renderTargetSshd,
} from "../../components/render/sshd";
import { fixtureKeys, sampleBastionSpec, sampleTargetSpec } from "../helpers/renderFixtures";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const TIMEOUT_MS = 15_000;
/** The Terrapin strict-KEX marker sshd appends to its KEX list itself (9.6, and Debian's 9.2p1-2+deb12u2 on). */
const STRICT_KEX_MARKER = "kex-strict-s-v00@openssh.com";

describe("sshd drop-in text", () => {
    it("puts the Match block last, so nothing after it is scoped to the jump group by accident", () => {
        const lines = renderBastionSshd(sampleBastionSpec()).split("\n");
        const match = lines.findIndex((l) => l.startsWith("Match "));
        expect(match).toBeGreaterThan(0);
        expect(lines.slice(match + 1).every((l) => l === "" || l.startsWith("    "))).toBe(true);
        expect(lines.filter((l) => l.startsWith("Match "))).toEqual([`Match Group ${JUMP_GROUP}`]);
    });

    it("lists every target on ONE PermitOpen line (sshd ignores a second one) and uses `none` for no targets", () => {
        const two = renderBastionSshd(sampleBastionSpec())
            .split("\n")
            .filter((l) => l.trim().startsWith("PermitOpen"));
        expect(two).toEqual(["PermitOpen none", "    PermitOpen 10.0.1.20:22 10.0.2.21:22"]);
        const none = renderBastionSshd(sampleBastionSpec({ targets: [] }));
        expect(none).toMatch(/^ {4}PermitOpen none$/m);
        expect(none).not.toMatch(/PermitOpen\s*$/m);
    });

    it("refuses specs sshd would choke on", () => {
        expect(() => renderBastionSshd(sampleBastionSpec({ sshPort: 0 }))).toThrow(/port/);
        expect(() =>
            renderBastionSshd(sampleBastionSpec({ targets: [{ name: "x", privateIp: "10.0.1", port: 22 }] })),
        ).toThrow(/IPv4/);
        expect(() => renderTargetSshd(sampleTargetSpec({ hopAddresses: ["10.0.0.0/33"] }))).toThrow(/CIDR/);
        expect(() => renderTargetSshd(sampleTargetSpec({ hopAddresses: [] }))).toThrow(/hopAddresses/);
    });

    it("exempts the hop from sshd's own penalties only where sshd has them (OpenSSH 9.8+)", () => {
        const hops = ["10.0.0.0/24", "10.0.64.10"];
        const exempt = (text: string) => text.split("\n").filter((l) => l.startsWith("PerSourcePenaltyExemptList"));
        // Debian 12 (9.2) and Ubuntu 24.04 (9.6) would refuse the keyword.
        for (const os of ["debian-12", "ubuntu-24.04"] as const) {
            expect(OS_RELEASES[os].openssh.major * 100 + OS_RELEASES[os].openssh.minor).toBeLessThan(908);
            expect(exempt(renderTargetSshd(sampleTargetSpec({ os, hopAddresses: hops })))).toEqual([]);
        }
        for (const v of [
            { major: 9, minor: 8 },
            { major: 10, minor: 0 },
        ]) {
            expect(exempt(renderTargetSshd(sampleTargetSpec({ hopAddresses: hops }), v))).toEqual([
                "PerSourcePenaltyExemptList 10.0.0.0/24,10.0.64.10",
            ]);
            const inner = renderBastionSshd(sampleBastionSpec({ hopAddresses: ["10.0.0.0/24"] }), v);
            expect(exempt(inner)).toEqual(["PerSourcePenaltyExemptList 10.0.0.0/24"]);
            // The outer bastion keeps sshd's penalties for the internet.
            expect(exempt(renderBastionSshd(sampleBastionSpec(), v))).toEqual([]);
        }
        expect(exempt(renderTargetSshd(sampleTargetSpec(), { major: 9, minor: 7 }))).toEqual([]);
        // Debian 13 ships 10.0: its targets get the exemption from the OS alone.
        expect(exempt(renderTargetSshd(sampleTargetSpec({ os: "debian-13", hopAddresses: hops })))).toEqual([
            "PerSourcePenaltyExemptList 10.0.0.0/24,10.0.64.10",
        ]);
    });

    it("sets the outer bastion's own penalties (one expired grace period blocks a source) only on OpenSSH 9.8+", () => {
        const penalties = (text: string) => text.split("\n").filter((l) => l.startsWith("PerSourcePenalties "));
        const outer = renderBastionSshd(sampleBastionSpec({ os: "debian-13" }));
        expect(penalties(outer)).toEqual([`PerSourcePenalties ${BASTION_PER_SOURCE_PENALTIES}`]);
        // One grace-exceeded penalty alone must reach the enforcement threshold.
        const seconds = (k: string) => Number(new RegExp(`${k}:(\\d+)s`).exec(BASTION_PER_SOURCE_PENALTIES)![1]);
        expect(seconds("grace-exceeded")).toBeGreaterThanOrEqual(seconds("min"));
        expect(penalties(renderBastionSshd(sampleBastionSpec({ os: "debian-12" })))).toEqual([]);
        // Hosts behind a hop exempt the hop instead of tuning penalties.
        expect(
            penalties(renderBastionSshd(sampleBastionSpec({ hopAddresses: ["10.0.0.0/24"] }), { major: 10, minor: 0 })),
        ).toEqual([]);
    });
});

// ---- a host laid out from a cloud-config document, inside a private mount namespace ----

interface NsHost {
    root: string;
    /** Runs `cmd` with the document's /etc/ssh, passwd, group and shadow mounted over the host's. */
    run(cmd: string[]): SpawnSyncReturns<string>;
    spawn(cmd: string[]): ChildProcess;
}

/** Lays the document's users, keys and /etc/ssh files out under a temp root (plus `extra` test users). */
function buildHost(config: CloudConfig, extra: { name: string; home?: string; keys: string[] }[] = []): NsHost {
    const root = mkdtempSync(join(tmpdir(), "jgt-sshd-"));
    chmodSync(root, 0o755); // users must traverse it to reach their authorized_keys
    const etcSsh = join(root, "etc/ssh");
    mkdirSync(etcSsh, { recursive: true });
    // Debian's full sshd_config (Include, UsePAM yes, X11Forwarding yes, ...), as on the AMI.
    copyFileSync("/etc/ssh/sshd_config", join(etcSsh, "sshd_config"));
    // The document's own edits of sshd_config (the bastion's AcceptEnv), run by the real sed on this copy.
    for (const cmd of config.runcmd ?? []) {
        if (!Array.isArray(cmd) || cmd[0] !== "sed" || cmd.at(-1) !== "/etc/ssh/sshd_config") continue;
        const r = spawnSync(cmd[0], [...cmd.slice(1, -1), join(etcSsh, "sshd_config")], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr}`);
    }
    if (existsSync("/etc/ssh/moduli")) copyFileSync("/etc/ssh/moduli", join(etcSsh, "moduli"));
    for (const f of config.write_files.filter((w) => w.path.startsWith("/etc/ssh/"))) {
        const dest = join(root, f.path);
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, f.content, { mode: parseInt(f.permissions ?? "0644", 8) });
    }
    const keys = config.ssh_keys ?? {};
    writeFileSync(join(root, HOST_KEY_PATH), keys.ed25519_private ?? "", { mode: 0o600 });
    writeFileSync(join(root, `${HOST_KEY_PATH}.pub`), `${keys.ed25519_public ?? ""}\n`, { mode: 0o644 });

    const groups = (config.groups ?? []).filter((g): g is string => typeof g === "string");
    const users = [
        ...config.users.flatMap((u) =>
            u === "default"
                ? []
                : [
                      {
                          name: u.name,
                          shell: u.shell ?? "/bin/sh",
                          groups: (u.groups ?? "")
                              .split(",")
                              .map((g) => g.trim())
                              .filter(Boolean),
                          keys: u.ssh_authorized_keys ?? [],
                          home: undefined as string | undefined,
                      },
                  ],
        ),
        ...extra.map((e) => ({ name: e.name, shell: "/bin/sh", groups: [] as string[], keys: e.keys, home: e.home })),
    ];
    const ours = new Set([...groups, ...users.filter((u) => u.name !== "root").map((u) => u.name)]);
    const keep = (file: string) =>
        readFileSync(file, "utf8")
            .split("\n")
            .filter((l) => l !== "" && !ours.has(l.split(":")[0] ?? ""));
    const gid = new Map<string, number>(groups.map((g, i) => [g, 62000 + i]));
    const passwd = keep("/etc/passwd");
    const group = keep("/etc/group");
    const shadow = keep("/etc/shadow");
    users.forEach((u, i) => {
        const id = 62100 + i;
        if (u.name === "root") return;
        const home = join(root, "home", u.name);
        passwd.push(`${u.name}:x:${id}:${id}::${home}:${u.shell}`);
        group.push(`${u.name}:x:${id}:`);
        shadow.push(`${u.name}:!:19000:0:99999:7:::`); // what lock_passwd: true leaves
        writeHome(home, u.keys, id);
    });
    for (const g of groups)
        group.push(
            `${g}:x:${gid.get(g)}:${users
                .filter((u) => u.groups.includes(g))
                .map((u) => u.name)
                .join(",")}`,
        );
    // root keeps its entry but gets a home under the temp root, so a root login attempt has a valid key.
    const rootUser = users.find((u) => u.name === "root");
    if (rootUser) {
        const home = join(root, "home", "root");
        writeHome(home, rootUser.keys, 0);
        const i = passwd.findIndex((l) => l.startsWith("root:"));
        passwd[i] = `root:x:0:0:root:${home}:/bin/bash`;
    }
    writeFileSync(join(root, "passwd"), `${passwd.join("\n")}\n`, { mode: 0o644 });
    writeFileSync(join(root, "group"), `${group.join("\n")}\n`, { mode: 0o644 });
    writeFileSync(join(root, "shadow"), `${shadow.join("\n")}\n`, { mode: 0o640 });

    const ns = (cmd: string[]) => [
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        ETC_OVERLAY_SCRIPT,
        "sh",
        root,
        ...cmd,
    ];
    return {
        root,
        run: (cmd) => spawnSync("unshare", ns(cmd), { encoding: "utf8", timeout: TIMEOUT_MS }),
        spawn: (cmd) => spawn("unshare", ns(cmd), { stdio: ["ignore", "ignore", "pipe"] }),
    };
}

function writeHome(home: string, keys: string[], uid: number): void {
    mkdirSync(home, { recursive: true });
    chmodSync(dirname(home), 0o755); // the user must traverse <root>/home
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home, ".ssh/authorized_keys"), keys.map((k) => `${k}\n`).join(""), { mode: 0o600 });
    for (const p of [home, join(home, ".ssh"), join(home, ".ssh/authorized_keys")]) chownSync(p, uid, uid);
    chmodSync(home, 0o755);
}

/** `sshd -T -C ...` as a map of keyword to values (keywords such as hostkey may repeat). */
function effective(host: NsHost, user: string, addr = "198.51.100.7"): Map<string, string[]> {
    const r = host.run([
        sshdPath(),
        "-T",
        "-C",
        `user=${user},addr=${addr},host=client.example.net,laddr=10.0.0.10,lport=22`,
    ]);
    if (r.status !== 0) throw new Error(`sshd -T failed (${r.status}): ${r.stderr}`);
    const out = new Map<string, string[]>();
    for (const line of r.stdout.split("\n").filter(Boolean)) {
        const [k, ...v] = line.split(" ");
        out.set(k ?? "", [...(out.get(k ?? "") ?? []), v.join(" ")]);
    }
    return out;
}

function one(values: Map<string, string[]>, key: string): string | undefined {
    const v = values.get(key);
    if (v && v.length > 1) throw new Error(`${key} has several values: ${v.join(" | ")}`);
    return v?.[0];
}

let sshdBinary: string | undefined;
function sshdPath(): string {
    // sshd refuses to re-exec unless started by absolute path.
    sshdBinary ??= spawnSync("sh", ["-c", "command -v sshd"], { encoding: "utf8" }).stdout.trim();
    return sshdBinary;
}

/** Pre-authentication limits: the outer bastion's (internet) or those of a host behind a hop. */
const STRICT_LIMITS = {
    maxStartups: MAX_STARTUPS,
    perSource: String(PER_SOURCE_MAX_STARTUPS),
    loginGraceTime: String(BASTION_LOGIN_GRACE_TIME),
};
const BEHIND_HOP_LIMITS = {
    maxStartups: BEHIND_HOP_MAX_STARTUPS,
    loginGraceTime: String(LOGIN_GRACE_TIME),
    perSource: String(BEHIND_HOP_PER_SOURCE_MAX_STARTUPS),
};

/** Properties the bastion and targets share: crypto exactly the lists, keys only, no root, limits, logging. */
function expectHardenedBasics(v: Map<string, string[]>, limits = STRICT_LIMITS): void {
    expect(one(v, "kexalgorithms")).toBe(KEX_ALGORITHMS.join(","));
    expect(one(v, "ciphers")).toBe(CIPHERS.join(","));
    expect(one(v, "macs")).toBe(MACS.join(","));
    expect(one(v, "hostkeyalgorithms")).toBe(HOST_KEY_ALGORITHMS.join(","));
    expect(one(v, "pubkeyacceptedalgorithms")).toBe(PUBKEY_ACCEPTED_ALGORITHMS.join(","));
    expect(one(v, "requiredrsasize")).toBe(String(REQUIRED_RSA_SIZE));
    expect(v.get("hostkey")).toEqual([HOST_KEY_PATH]);
    expect(one(v, "authenticationmethods")).toBe("publickey");
    expect(one(v, "pubkeyauthentication")).toBe("yes");
    for (const off of [
        "passwordauthentication",
        "kbdinteractiveauthentication",
        "permitemptypasswords",
        "hostbasedauthentication",
        "gssapiauthentication",
        "kerberosauthentication",
        "permitrootlogin",
        "permituserenvironment",
    ]) {
        expect(one(v, off), off).toBe("no");
    }
    expect(one(v, "maxauthtries")).toBe("3");
    expect(one(v, "logingracetime")).toBe(limits.loginGraceTime);
    expect(one(v, "maxstartups")).toBe(limits.maxStartups);
    expect(one(v, "persourcemaxstartups")).toBe(limits.perSource);
    expect(Number(one(v, "clientaliveinterval"))).toBeGreaterThan(0);
    expect(Number(one(v, "clientalivecountmax"))).toBeGreaterThan(0);
    expect(one(v, "loglevel")).toBe("VERBOSE");
    expect(one(v, "banner")).toBe(BANNER_PATH);
    // Debian's own sshd_config is still in effect where we do not override it (the AMI's behaviour).
    expect(one(v, "usepam")).toBe("yes");
}

/** Forwarding of every kind is off (what any user but a jump user gets). */
function expectNoForwarding(v: Map<string, string[]>): void {
    expect(one(v, "disableforwarding")).toBe("yes");
    expect(one(v, "allowtcpforwarding")).toBe("no");
    expect(one(v, "permitopen")).toBe("none");
    for (const off of [
        "x11forwarding",
        "allowagentforwarding",
        "allowstreamlocalforwarding",
        "permittunnel",
        "gatewayports",
    ]) {
        expect(one(v, off), off).toBe("no");
    }
    expect(one(v, "permitlisten")).toBe("none");
}

const haveSshd = toolsAvailable("sshd", "unshare", "mount") && isRootOrFail();

describe.runIf(haveSshd)("sshd -t / -T on the drop-ins from the rendered documents", () => {
    const bastionSpec: BastionHostSpec = sampleBastionSpec({ jumpUser: "jgt-jump", sshPort: 2222 });
    const targetSpec: TargetHostSpec = sampleTargetSpec({ loginUser: "jgt-ops" });
    let bastion: NsHost;
    let target: NsHost;

    beforeAll(() => {
        mkdirSync("/run/sshd", { recursive: true }); // privilege separation directory
        const other = { name: "jgt-other", keys: [fixtureKeys().operator.publicKeyOpenssh] };
        bastion = buildHost(parseCloudConfig(renderBastionCloudInit(bastionSpec)), [other]);
        target = buildHost(parseCloudConfig(renderTargetCloudInit(targetSpec)), [other]);
    });
    afterAll(() => {
        for (const h of [bastion, target]) if (h) rmSync(h.root, { recursive: true, force: true });
    });

    it("both drop-ins pass sshd -t under Debian's full sshd_config", () => {
        for (const h of [bastion, target]) {
            const r = h.run([sshdPath(), "-t"]);
            expect(r.stderr).toBe("");
            expect(r.status).toBe(0);
        }
        expect(existsSync(join(bastion.root, SSHD_DROPIN_PATH))).toBe(true);
    });

    it("bastion, jump user: TCP forwarding only to exactly the listed targets, no TTY, no shell", () => {
        const v = effective(bastion, bastionSpec.jumpUser);
        expectHardenedBasics(v);
        expect(one(v, "port")).toBe("2222");
        expect(one(v, "allowgroups")).toBe(JUMP_GROUP);
        expect(one(v, "disableforwarding")).toBe("no");
        expect(one(v, "allowtcpforwarding")).toBe("local");
        expect(one(v, "permitopen")?.split(" ")).toEqual(bastionSpec.targets.map((t) => `${t.privateIp}:${t.port}`));
        expect(one(v, "permittty")).toBe("no");
        expect(one(v, "forcecommand")).toBe(NOLOGIN);
        for (const off of [
            "x11forwarding",
            "allowagentforwarding",
            "allowstreamlocalforwarding",
            "permittunnel",
            "gatewayports",
        ]) {
            expect(one(v, off), off).toBe("no");
        }
        expect(one(v, "permitlisten")).toBe("none");
        // ProxyJump needs channels, not sessions; idle forwards and unused connections end.
        expect(one(v, "maxsessions")).toBe("0");
        expect(one(v, "channeltimeout")).toBe(`${JUMP_CHANNEL_TIMEOUT}`);
        expect(one(v, "unusedconnectiontimeout")).toBe("900");
        expect(one(v, "tcpkeepalive")).toBe("no");
        expect(one(v, "clientaliveinterval")).toBe("30");
        expect(one(v, "clientalivecountmax")).toBe("3");
        // Debian's `AcceptEnv LANG LC_*` is gone from the bastion's sshd_config (this machine's copy, edited
        // by the document's own command): no client variable is accepted.
        expect(v.get("acceptenv")).toBeUndefined();
        expect(readFileSync(join(bastion.root, "etc/ssh/sshd_config"), "utf8")).not.toMatch(/^\s*AcceptEnv/m);
    });

    it("bastion, any other user (and root): no forwarding at all, and not allowed to log in", () => {
        for (const user of ["jgt-other", "root"]) {
            const v = effective(bastion, user);
            expectHardenedBasics(v);
            expectNoForwarding(v);
            expect(one(v, "forcecommand")).toBe("none");
            expect(one(v, "allowgroups")).toBe(JUMP_GROUP);
        }
    });

    it("bastion with no targets: even the jump user may open nothing", () => {
        const host = buildHost(parseCloudConfig(renderBastionCloudInit({ ...bastionSpec, targets: [] })));
        try {
            const v = effective(host, bastionSpec.jumpUser);
            expect(one(v, "allowtcpforwarding")).toBe("local");
            expect(one(v, "permitopen")).toBe("none");
        } finally {
            rmSync(host.root, { recursive: true, force: true });
        }
    });

    it("target: listens on its private address, port 22, login group only, no forwarding for anyone", () => {
        for (const user of [targetSpec.loginUser, "jgt-other"]) {
            const v = effective(target, user);
            expectHardenedBasics(v, BEHIND_HOP_LIMITS);
            expectNoForwarding(v);
            expect(v.get("listenaddress")).toEqual([`${targetSpec.privateIp}:22`]);
            expect(one(v, "allowgroups")).toBe(LOGIN_GROUP);
            expect(one(v, "forcecommand")).toBe("none");
            expect(one(v, "tcpkeepalive")).toBe("no");
            // Login users keep sessions and their locale (a deliberate exception: they have a shell).
            expect(one(v, "maxsessions")).toBe("10");
            expect(v.get("acceptenv")).toEqual(expect.arrayContaining(["LANG", "LC_*"]));
        }
    });
});

describe.runIf(haveSshd)("sshd -T: pre-authentication limits where every operator arrives from one hop", () => {
    const hosts: NsHost[] = [];
    afterAll(() => {
        for (const h of hosts) rmSync(h.root, { recursive: true, force: true });
    });
    const host = (doc: string) => {
        const h = buildHost(parseCloudConfig(doc));
        hosts.push(h);
        return h;
    };

    it("the outer bastion keeps per-source limits, with headroom for many allowed sources", () => {
        const v = effective(host(renderBastionCloudInit(sampleBastionSpec())), "jump");
        expect(one(v, "maxstartups")).toBe("64:30:128");
        expect(one(v, "persourcemaxstartups")).toBe("3");
        expect(one(v, "logingracetime")).toBe("15");
        // 12 sources (the flood e2e test) at the per-source cap stay below the start of random refusals.
        expect(12 * Number(one(v, "persourcemaxstartups"))).toBeLessThan(Number(one(v, "maxstartups")!.split(":")[0]!));
    });

    it("a target and an inner hop size them for one source that carries the whole team", () => {
        const target = effective(host(renderTargetCloudInit(sampleTargetSpec())), "ops", "10.0.0.10");
        const inner = effective(
            host(renderBastionCloudInit(sampleBastionSpec({ hopAddresses: ["10.0.64.10"] }))),
            "jump",
            "10.0.64.10",
        );
        for (const v of [target, inner]) {
            expect(one(v, "maxstartups")).toBe("30:30:100");
            // One source is the whole team: the per-source cap is no lower than the total.
            expect(one(v, "persourcemaxstartups")).toBe("100");
        }
    });

    it("sshd 9.2 refuses PerSourcePenaltyExemptList: it is rendered only for OpenSSH 9.8+", () => {
        const spec = sampleTargetSpec();
        const h = host(renderTargetCloudInit(spec));
        const dropIn = join(h.root, SSHD_DROPIN_PATH);
        writeFileSync(dropIn, renderTargetSshd(spec, { major: 10, minor: 0 }), { mode: 0o600 });
        const r = h.run([sshdPath(), "-t"]);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/PerSourcePenaltyExemptList/);
        writeFileSync(dropIn, renderTargetSshd(spec), { mode: 0o600 });
        expect(h.run([sshdPath(), "-t"]).status).toBe(0);
    });
});

/**
 * OpenSSH 9.8+ is not this machine's sshd: the lab's cached Debian 13 root (test/helpers/debian13.ts): its sshd 10.0 judges the 10.0 rendering.
 */
const debian13Root = debian13RootDir();

describe.runIf(haveSshd && debian13Root !== undefined)("sshd 10.0 of the lab's Debian 13 root", () => {
    it("accepts the target drop-in and exempts the hop from PerSourcePenalties", () => {
        const root = debian13Root ?? "";
        const spec = sampleTargetSpec({ hopAddresses: ["10.0.0.0/24", "10.0.64.10"] });
        const h = buildHost(parseCloudConfig(renderTargetCloudInit(spec)));
        try {
            writeFileSync(join(h.root, SSHD_DROPIN_PATH), renderTargetSshd(spec, { major: 10, minor: 0 }));
            const script = [
                "set -e",
                'mount --bind "$1/etc/ssh" "$2/etc/ssh"',
                'mount -t tmpfs jgt-run "$2/run"',
                'mkdir "$2/run/sshd"',
                'exec chroot "$2" /usr/sbin/sshd -T -C user=ops,addr=10.0.0.77,host=x,laddr=10.0.1.20,lport=22',
            ].join("\n");
            const r = spawnSync(
                "unshare",
                ["--mount", "--propagation", "private", "sh", "-c", script, "sh", h.root, root],
                {
                    encoding: "utf8",
                    timeout: TIMEOUT_MS,
                },
            );
            expect(r.status, r.stderr).toBe(0);
            expect(r.stdout).toMatch(/^persourcepenaltyexemptlist 10\.0\.0\.0\/24,10\.0\.64\.10$/m);
            expect(r.stdout).toMatch(/^maxstartups 30:30:100$/m);
            expect(r.stdout).toMatch(/^persourcemaxstartups 100$/m);
        } finally {
            rmSync(h.root, { recursive: true, force: true });
        }
    });
});

// ---- a real sshd on 127.0.0.1 with the rendered bastion document ----

const haveLive = haveSshd && toolsAvailable("ssh", "ssh-audit", "fail2ban-regex");

/** Client source addresses: one per scenario, so fail2ban's view of each can be told apart. */
const SRC = { legit: "127.0.0.10", password: "127.0.0.11", otherUser: "127.0.0.12", root: "127.0.0.13" } as const;

describe.runIf(haveLive)("a real sshd with the rendered bastion document", () => {
    let work: string;
    let host: NsHost;
    let sshd: ChildProcess | undefined;
    let echo: Server;
    let echoPort: number;
    let closedPort: number;
    let spec: BastionHostSpec;
    let config: CloudConfig;
    let log = "";

    beforeAll(async () => {
        mkdirSync("/run/sshd", { recursive: true });
        work = mkdtempSync(join(tmpdir(), "jgt-live-"));
        // A stand-in target on 127.0.0.1: a -W that reaches it reads this greeting.
        echo = createServer((s) => s.end("JUMPGATE-TARGET\n"));
        echoPort = await listen(echo);
        const sshPort = await freePort();
        closedPort = await freePort();
        spec = sampleBastionSpec({
            jumpUser: "jgt-jump",
            sshPort,
            targets: [
                { name: "local", privateIp: "127.0.0.1", port: echoPort },
                // Listed, but nothing listens there: sshd tries (connect refused) instead of refusing by policy.
                { name: "closed", privateIp: "127.0.0.1", port: closedPort },
            ],
        });
        config = parseCloudConfig(renderBastionCloudInit(spec));
        const operator = fixtureKeys().operator.publicKeyOpenssh;
        host = buildHost(config, [
            { name: "jgt-other", keys: [operator] },
            { name: "root", keys: [operator] },
        ]);
        writeFileSync(join(work, "id_ed25519"), fixtureKeys().operator.privateKeyOpenssh, { mode: 0o600 });
        // Pinned from the document, never learnt: a wrong host key fails every test below.
        writeFileSync(join(work, "known_hosts"), `[127.0.0.1]:${sshPort} ${config.ssh_keys?.ed25519_public ?? ""}\n`);
        sshd = host.spawn([sshdPath(), "-D", "-e", "-o", "ListenAddress=127.0.0.1", "-o", "PidFile=none"]);
        sshd.stderr?.on("data", (d: Buffer) => (log += d.toString()));
        await waitForPort(
            sshPort,
            () => sshd?.exitCode !== null,
            () => log,
        );
    });

    afterAll(async () => {
        if (sshd && sshd.exitCode === null) {
            sshd.kill("SIGTERM");
            await waitForExit(sshd, 5_000);
        }
        await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
        if (host) rmSync(host.root, { recursive: true, force: true });
        if (work) rmSync(work, { recursive: true, force: true });
    });

    // Async: the stand-in target is served from this very process, so the event loop must keep running.
    const ssh = (src: string, user: string, options: string[], command: string[] = []) =>
        run("ssh", [
            ...["-F", "/dev/null", "-i", join(work, "id_ed25519"), "-o", "IdentitiesOnly=yes"],
            ...["-o", `UserKnownHostsFile=${join(work, "known_hosts")}`, "-o", "GlobalKnownHostsFile=/dev/null"],
            ...["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"],
            ...["-b", src, "-p", String(spec.sshPort), "-l", user, ...options, "127.0.0.1", ...command],
        ]);

    it("ssh-audit finds no [fail] (exit code is not 3)", () => {
        const r = spawnSync("ssh-audit", ["-n", "-t", "10", "-p", String(spec.sshPort), "127.0.0.1"], {
            encoding: "utf8",
            timeout: 30_000,
        });
        expect(r.stdout).toContain("(gen) banner: SSH-2.0-OpenSSH_");
        expect(r.stdout).not.toContain("[fail]");
        // 0 = all good, 2 = warnings only (9.2: sntrup761 "experimental", kex-strict "unknown"); 3 = failure.
        expect([0, 2]).toContain(r.status);
    });

    it("ssh-audit policy from the intended lists passes (-P), and a policy that differs fails", () => {
        const policy = join(work, "policy.txt");
        writeFileSync(policy, auditPolicy(CIPHERS));
        const pass = spawnSync("ssh-audit", ["-n", "-t", "10", "-p", String(spec.sshPort), "-P", policy, "127.0.0.1"], {
            encoding: "utf8",
            timeout: 30_000,
        });
        expect(pass.stdout).toMatch(/Result: .*Passed/);
        expect(pass.status).toBe(0);
        writeFileSync(policy, auditPolicy([...CIPHERS].reverse()));
        const fail = spawnSync("ssh-audit", ["-n", "-t", "10", "-p", String(spec.sshPort), "-P", policy, "127.0.0.1"], {
            encoding: "utf8",
            timeout: 30_000,
        });
        expect(fail.stdout).toMatch(/Ciphers did not match/);
        expect(fail.status).not.toBe(0);
    });

    it("ssh-audit -M: the policy made from the live server lists exactly the intended algorithms", () => {
        const made = join(work, "made.txt");
        const r = spawnSync("ssh-audit", ["-n", "-t", "10", "-p", String(spec.sshPort), "-M", made, "127.0.0.1"], {
            encoding: "utf8",
            timeout: 30_000,
        });
        expect(r.status).toBe(0);
        const text = readFileSync(made, "utf8");
        const field = (name: string) => text.match(new RegExp(`^${name} = (.*)$`, "m"))?.[1]?.split(", ");
        expect(field("host keys")).toEqual(HOST_KEY_ALGORITHMS.filter((a) => !a.includes("-cert-")));
        expect(field("key exchanges")).toEqual([...KEX_ALGORITHMS, STRICT_KEX_MARKER]);
        expect(field("ciphers")).toEqual([...CIPHERS]);
        expect(field("macs")).toEqual([...MACS]);
    });

    it("ssh -W to a listed target is forwarded (the pinned host key is the document's)", async () => {
        const r = await ssh(SRC.legit, spec.jumpUser, ["-W", `127.0.0.1:${echoPort}`]);
        expect(r.stderr).not.toMatch(/prohibited/);
        expect(r.stdout).toBe("JUMPGATE-TARGET\n");
        expect(r.status).toBe(0);
        // A listed target that is down is attempted (connect failed), not refused by policy.
        const down = await ssh(SRC.legit, spec.jumpUser, ["-W", `127.0.0.1:${closedPort}`]);
        expect(down.stderr).toMatch(/open failed: connect failed/);
        expect(down.stderr).not.toMatch(/administratively prohibited/);
        // The audit records' source, at VERBOSE (LogVerbose, no DEBUG): the target asked for, the channel
        // it got, and the channel's end, each with the sshd-session pid (sshd 9.2 here, 10.0 in the lab).
        const target = new RegExp(
            `server_request_direct_tcpip\\(\\):\\d+ \\(pid=\\d+\\): originator \\S+ port \\d+, target 127\\.0\\.0\\.1 port ${echoPort}$`,
            "m",
        );
        await waitFor(
            () => target.test(log) && /channel_free\(\):\d+ .*: channel \d+: free: direct-tcpip/.test(log),
            5_000,
        );
        expect(log).toMatch(target);
        expect(log).toMatch(/channel_new\(\):\d+ \(pid=\d+\): channel \d+: new direct-tcpip/);
        expect(log).not.toMatch(/^debug[23]:/m);
    });

    it("ssh -W to anything not listed is refused, including another spelling of a listed host", async () => {
        for (const dest of [`127.0.0.1:${spec.sshPort}`, `localhost:${echoPort}`, `10.0.1.21:22`]) {
            const r = await ssh(SRC.legit, spec.jumpUser, ["-W", dest]);
            expect(r.stderr, dest).toMatch(/administratively prohibited/);
            expect(r.stdout, dest).toBe("");
            expect(r.status, dest).not.toBe(0);
        }
        // What the refused record names: the destination as asked, from sshd's own words.
        await waitFor(() => log.includes("to connect to host 10.0.1.21 port 22, but the request was denied."), 5_000);
        expect(log).toMatch(
            /channel_connect_to_port\(\):\d+ \(pid=\d+\): Received request from 127\.0\.0\.10 port \d+ to connect to host localhost port \d+, but the request was denied\./,
        );
    });

    it("the jump user gets no session at all (MaxSessions 0): no command, no shell, no TTY, no subsystem", async () => {
        const cmd = await ssh(SRC.legit, spec.jumpUser, [], ["id"]);
        expect(cmd.stdout).not.toMatch(/uid=/);
        expect(cmd.stderr).toMatch(/channel \d+: open failed/);
        expect(cmd.status).not.toBe(0);
        const tty = await ssh(SRC.legit, spec.jumpUser, ["-tt"]);
        expect(tty.stderr).toMatch(/channel \d+: open failed/);
        expect(tty.stdout).not.toMatch(/[$#] $/m);
        const sftp = await ssh(SRC.legit, spec.jumpUser, ["-s"], ["sftp"]);
        expect(sftp.stderr).toMatch(/channel \d+: open failed/);
    });

    it("one multiplexed connection carries several ProxyJump channels at once, with sessions refused", async () => {
        const sock = join(work, "cm.sock");
        const master = await ssh(SRC.legit, spec.jumpUser, ["-f", "-N", "-M", "-S", sock]);
        expect(master.status, master.stderr).toBe(0);
        try {
            const hops = await Promise.all(
                [1, 2, 3].map(() => ssh(SRC.legit, spec.jumpUser, ["-S", sock, "-W", `127.0.0.1:${echoPort}`])),
            );
            for (const h of hops) expect(h.stdout, h.stderr).toBe("JUMPGATE-TARGET\n");
            const session = await ssh(SRC.legit, spec.jumpUser, ["-S", sock], ["id"]);
            expect(session.stderr).toMatch(/channel \d+: open failed/);
            expect(session.stdout).not.toMatch(/uid=/);
        } finally {
            await ssh(SRC.legit, spec.jumpUser, ["-S", sock, "-O", "exit"]);
        }
    });

    it("passwords are refused: the server offers publickey only", async () => {
        const r = await ssh(
            SRC.password,
            spec.jumpUser,
            ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"],
            ["true"],
        );
        expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
        expect(r.status).toBe(255);
    });

    it("a valid key is refused for users outside the jump group and for root", async () => {
        for (const [src, user] of [
            [SRC.otherUser, "jgt-other"],
            [SRC.root, "root"],
        ] as const) {
            const r = await ssh(src, user, [], ["true"]);
            expect(r.stderr, user).toMatch(/Permission denied \(publickey\)/);
            expect(r.status, user).toBe(255);
        }
    });

    it("fail2ban, in the jail's mode, counts what this sshd logged: failures yes, the operator's own use no", async () => {
        const mode = fileAt(config, FAIL2BAN_JAIL_PATH).match(/^\[sshd\][^[]*?^mode\s*=\s*(\S+)/m)?.[1];
        expect(mode).toBeDefined();
        // Let the last connections' children finish logging.
        await waitFor(() => log.includes(`user root ${SRC.root}`) || log.includes(`from ${SRC.root}`), 5_000);
        // sshd -e writes bare messages; give them the syslog prefix journald/rsyslog would show.
        const file = join(work, "auth.log");
        const lines = log
            .split("\n")
            .filter(Boolean)
            .map((l, i) => `2026-11-20T10:00:${String(i % 60).padStart(2, "0")}.000000+00:00 bastion sshd[4242]: ${l}`);
        writeFileSync(file, `${lines.join("\n")}\n`);
        const r = spawnSync("fail2ban-regex", ["--out", "ip", file, `sshd[mode=${mode}]`], {
            encoding: "utf8",
            timeout: 30_000,
        });
        expect(r.status).toBe(0);
        const hits = (ip: string) => r.stdout.split("\n").filter((l) => l.trim() === ip).length;
        expect(hits(SRC.legit)).toBe(0);
        expect(hits(SRC.password)).toBeGreaterThanOrEqual(1);
        expect(hits(SRC.otherUser)).toBeGreaterThanOrEqual(1);
        expect(hits(SRC.root)).toBeGreaterThanOrEqual(1);
    });
});

/** An ssh-audit policy generated from the intended lists (host cert algorithms optional). */
function auditPolicy(ciphers: readonly string[]): string {
    return [
        'name = "jumpgate hardened sshd"',
        "version = 1",
        `host keys = ${HOST_KEY_ALGORITHMS.filter((a) => !a.includes("-cert-")).join(", ")}`,
        `optional host keys = ${HOST_KEY_ALGORITHMS.filter((a) => a.includes("-cert-")).join(", ")}`,
        `key exchanges = ${[...KEX_ALGORITHMS, STRICT_KEX_MARKER].join(", ")}`,
        `ciphers = ${ciphers.join(", ")}`,
        `macs = ${MACS.join(", ")}`,
        "",
    ].join("\n");
}

/** Runs a command without blocking the event loop; killed after TIMEOUT_MS. */
function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => p.kill("SIGKILL"), TIMEOUT_MS);
        p.once("error", (e) => (clearTimeout(timer), reject(e)));
        p.once("close", (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
    });
}

function listen(server: Server): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const a = server.address();
            resolve(typeof a === "object" && a ? a.port : 0);
        });
    });
}

async function freePort(): Promise<number> {
    const s = createServer();
    const port = await listen(s);
    await new Promise<void>((r) => s.close(() => r()));
    return port;
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const c = connect({ host: "127.0.0.1", port, timeout: 500 });
        c.once("connect", () => (c.destroy(), resolve(true)));
        c.once("error", () => resolve(false));
        c.once("timeout", () => (c.destroy(), resolve(false)));
    });
}

async function waitForPort(port: number, exited: () => boolean, logText: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
        if (exited()) throw new Error(`sshd exited early:\n${logText()}`);
        if (await canConnect(port)) return;
        await sleep(100);
    }
    throw new Error(`sshd did not listen on 127.0.0.1:${port} within 10 s:\n${logText()}`);
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline) await sleep(100);
}

function waitForExit(p: ChildProcess, ms: number): Promise<void> {
    return new Promise((resolve) => {
        if (p.exitCode !== null || p.signalCode !== null) return resolve();
        const t = setTimeout(() => (p.kill("SIGKILL"), resolve()), ms);
        p.once("exit", () => (clearTimeout(t), resolve()));
    });
}

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}
