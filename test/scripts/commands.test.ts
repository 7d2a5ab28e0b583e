// A fresh machine must have every command the project runs: each one the code names is in
// scripts/commands.txt, and each listed package is one install-tools.sh installs or one the machine image
// has. Without this, a tool installed by hand on a developer's machine hides a missing install step
// until a lab test fails half-way on a fresh one.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
    commandsInShell,
    commandsInTs,
    isDebianPackage,
    packagesToAdd,
    readInventory,
    readLabRootPackages,
    readList,
    scanSpawnedCommands,
} from "../helpers/commands";
import { toolsAvailable } from "../helpers/tools";

const inventory = readInventory();
const installed = new Set(readList("scripts/debian-packages.txt"));
const baseImage = new Set(readList("scripts/base-image-packages.txt"));

describe("the command scanner", () => {
    it("finds commands in the forms the code uses", () => {
        const ts = [
            `spawnSync("ssh-keygen", ["-l"])`,
            `runIn(ns, "nft", ["list"])`,
            `runIn(bastionState()?.ns ?? "", "fail2ban-client", args)`,
            `spawn("ip", ["netns", "exec", o.ns, "fail2ban-server", "-f"])`,
            `toolsAvailable("sshd", "unshare")`,
            `client("ssh", [alias, "sha256sum f && id -un && sudo -n id -u"])`,
            "sh -c 'command -v cloud-init'",
        ].join("\n");
        expect(commandsInTs(ts).sort()).toEqual(
            [
                "ssh-keygen",
                "nft",
                "fail2ban-client",
                "ip",
                "fail2ban-server",
                "sshd",
                "unshare",
                "sha256sum",
                "id",
                "sudo",
                "cloud-init",
            ].sort(),
        );
        const sh = `set -e\ncd "$(dirname "$0")"\nif [ -s x ]; then\n    node -e 'const a = 1;' x\nfi\napt-get install -y \\\n  foo\n`;
        expect(commandsInShell(sh)).toEqual(expect.arrayContaining(["dirname", "node", "apt-get"]));
        expect(commandsInShell(sh)).not.toContain("const");
    });
});

describe("every command the project runs comes from a package a fresh machine gets", () => {
    it("lists every command the code names in scripts/commands.txt", () => {
        const listed = new Set(inventory.map((e) => e.command));
        const missing = [...scanSpawnedCommands()]
            .filter(([command]) => !listed.has(command))
            .map(([command, files]) => `${command} (run in ${files.join(", ")}): add it to scripts/commands.txt`);
        expect(missing).toEqual([]);
    });

    it("names, for each listed command, a package and where it runs", () => {
        const incomplete = inventory.filter((e) => !e.pkg || !e.why).map((e) => e.command);
        expect(incomplete).toEqual([]);
        const twice = inventory.map((e) => e.command).filter((c, i, all) => all.indexOf(c) !== i);
        expect(twice).toEqual([]);
    });

    it("installs each command's package from install-tools.sh, unless the machine image has it", () => {
        expect(packagesToAdd(inventory, installed, baseImage)).toEqual([]);
    });

    const debian = inventory.filter((e) => isDebianPackage(e.pkg));
    const gate = toolsAvailable("dpkg", ...debian.map((e) => e.command));

    it.runIf(gate)("each listed package really ships its command, and the command is on PATH", () => {
        const wrong = debian.flatMap((e) => {
            const files = spawnSync("dpkg", ["-L", e.pkg], { encoding: "utf8" });
            if (files.status !== 0) return [`${e.command}: package ${e.pkg} is not installed`];
            const ships = files.stdout.split("\n").some((f) => new RegExp(`/s?bin/${e.command}$`).test(f));
            return ships ? [] : [`${e.command}: ${e.pkg} does not ship it (dpkg -S $(command -v ${e.command}))`];
        });
        expect(wrong).toEqual([]);
    });

    it("names the command and the package when a package is dropped from install-tools.sh", () => {
        // Every installed package a listed command needs, dropped in turn, is reported by name.
        const needed = [...installed].filter((p) => !baseImage.has(p) && inventory.some((e) => e.pkg === p));
        expect(needed).toEqual(expect.arrayContaining(["openssh-server", "fail2ban", "systemd-container"]));
        for (const pkg of needed) {
            const without = new Set([...installed].filter((p) => p !== pkg));
            const commands = inventory.filter((e) => e.pkg === pkg).map((e) => e.command);
            expect(packagesToAdd(inventory, without, baseImage)).toEqual(
                commands.map((c) => `${c}: add ${pkg} to scripts/debian-packages.txt`),
            );
        }
    });

    it("names the command and the lab root's package when it is dropped from build-lab-root.sh", () => {
        const root = readLabRootPackages();
        expect(packagesToAdd(inventory, installed, baseImage, root)).toEqual([]);
        const without = new Set([...root].filter((p) => p !== "sudo"));
        expect(packagesToAdd(inventory, installed, baseImage, without)).toEqual([
            "sudo: add sudo to PACKAGES in scripts/build-lab-root.sh",
        ]);
    });
});
