// `npm run lab` as a user runs it: up from the stack file, connect with the printed command, status, down.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listNamespaces } from "../../lab/netns";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules/.bin/tsx");
const labScript = path.join(root, "scripts/lab.ts");

describe.runIf(
    toolsAvailable("ssh", "nft", "ip", "debootstrap", "zstd", "systemd-nspawn", "nsenter") && isRootOrFail(),
)("npm run lab", () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "jg-labcli-"));
    cpSync(path.join(root, "Pulumi.yaml"), path.join(cwd, "Pulumi.yaml"));
    cpSync(path.join(root, "Pulumi.dev.yaml"), path.join(cwd, "Pulumi.cli.yaml"));
    const lab = (...args: string[]) =>
        spawnSync(tsx, [labScript, ...args], { cwd, encoding: "utf8", timeout: 120_000 });

    afterAll(() => {
        lab("down", "--stack", "cli");
        rmSync(cwd, { recursive: true, force: true });
    });

    it("stands the stack up, prints commands that connect, reports status, and tears everything down", () => {
        const up = lab("up", "--stack", "cli");
        expect(up.status, up.stderr).toBe(0);
        expect(statSync(path.join(cwd, ".lab")).mode & 0o777).toBe(0o700);
        expect(statSync(path.join(cwd, ".lab/jumpgate-cli_ed25519")).mode & 0o777).toBe(0o600);
        const commands = up.stdout.split("\n").filter((l) => l.trim().startsWith("ip netns exec "));
        expect(commands.map((c) => c.trim().split(" ").pop())).toEqual(["cli-app-1", "cli-db-1"]);
        for (const command of commands) {
            const [cmd, ...args] = command.trim().split(" ");
            const r = spawnSync(cmd!, [...args, "hostname"], { encoding: "utf8", timeout: 30_000 });
            expect(r.stdout.trim(), r.stderr).toBe(command.trim().split(" ").pop()!.replace("cli-", ""));
        }
        const status = lab("status");
        expect(status.status).toBe(0);
        expect(status.stdout).toContain("Lab 'cli'");
        expect(status.stdout).toMatch(/jail sshd: 0 failing, banned: none/);

        const down = lab("down");
        expect(down.status, down.stderr).toBe(0);
        expect(down.stdout).toMatch(/lab 'cli' is down/);
        expect(existsSync(path.join(cwd, ".lab"))).toBe(false);
        expect(listNamespaces().filter((n) => n.startsWith("jg-cli-"))).toEqual([]);
        expect(lab("status").status).toBe(3);
    });

    it("prints usage for an unknown command", () => {
        const r = lab("sideways");
        expect(r.status).toBe(2);
        expect(r.stdout).toContain("usage: npm run lab -- up|down|status");
    });
});
