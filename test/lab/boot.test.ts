// The pure parts of booting lab hosts: the NoCloud seed, what the mirror will serve, the hosts file,
// and the root cache's key (a change to what goes into the root must build a new one).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { noCloudSeed, nspawnArgs } from "../../lab/boot";
import { mirrorFile } from "../../lab/mirror";
import { BUILD_SCRIPT, labEtcHosts, mirrorHostOf } from "../../lab/rootfs";

const scratch = mkdtempSync(join(tmpdir(), "jg-boot-unit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the NoCloud seed", () => {
    it("carries the rendered document unchanged and names the instance", () => {
        const userData = "#cloud-config\nusers:\n  - name: jump\n";
        const seed = noCloudSeed({ instanceId: "i-lab-dev-bastion", hostname: "bastion", userData });
        expect(seed["user-data"]).toBe(userData);
        expect(seed["meta-data"]).toBe("instance-id: i-lab-dev-bastion\nlocal-hostname: bastion\n");
    });
});

describe("nspawnArgs", () => {
    it("boots in the host's namespace, unregistered, with the capability fail2ban's action needs", () => {
        const args = nspawnArgs("jg-dev-bastion", "jg-dev-bastion", "/lab/hosts/bastion/merged");
        expect(args).toContain("--boot");
        expect(args).toContain("--network-namespace-path=/run/netns/jg-dev-bastion");
        expect(args).toContain("--capability=CAP_NET_ADMIN");
        expect(args).toContain("--keep-unit");
        expect(args).toContain("--register=no");
        expect(args).toContain("--directory=/lab/hosts/bastion/merged");
    });
});

describe("mirrorFile", () => {
    const tree = join(scratch, "mirror");
    mkdirSync(join(tree, "debian", "dists", "trixie"), { recursive: true });
    writeFileSync(join(tree, "debian", "dists", "trixie", "InRelease"), "signed\n");
    writeFileSync(join(scratch, "secret"), "not served\n");

    it("serves files inside the tree", () => {
        expect(mirrorFile(tree, "/debian/dists/trixie/InRelease")).toBe(join(tree, "debian/dists/trixie/InRelease"));
        expect(mirrorFile(tree, "/debian/dists/trixie/InRelease?x=1")).toBe(
            join(tree, "debian/dists/trixie/InRelease"),
        );
    });

    it("refuses directories, missing files and anything outside the tree", () => {
        expect(mirrorFile(tree, "/debian/dists/trixie")).toBeUndefined();
        expect(mirrorFile(tree, "/debian/dists/trixie/Release")).toBeUndefined();
        expect(mirrorFile(tree, "/../secret")).toBeUndefined();
        expect(mirrorFile(tree, "/debian/%2e%2e/%2e%2e/../secret")).toBeUndefined();
        expect(mirrorFile(tree, "/%E0%A4%A")).toBeUndefined();
    });
});

describe("a host's /etc/hosts", () => {
    it("keeps the root's entries and adds the host's name and the mirror's address", () => {
        const root = join(scratch, "root");
        mkdirSync(join(root, "etc", "apt"), { recursive: true });
        writeFileSync(join(root, "etc", "hosts"), "127.0.0.1\tlocalhost\n");
        writeFileSync(join(root, "etc", "apt", "sources.list"), "deb http://deb.debian.org/debian trixie main\n");
        const host = mirrorHostOf(root);
        expect(host).toBe("deb.debian.org");
        expect(labEtcHosts(root, "app-1", { host, ip: "192.0.2.80" })).toBe(
            "127.0.0.1\tlocalhost\n127.0.1.1\tapp-1\n192.0.2.80\tdeb.debian.org\n",
        );
    });
});

describe("the root cache key", () => {
    const keyOf = (script: string) => execFileSync("bash", [script, "--key"], { encoding: "utf8" }).trim();

    it("is the same for the same script, wherever it is called from", () => {
        const dir = join(scratch, "same");
        mkdirSync(dir);
        const link = join(dir, "build-lab-root.sh");
        symlinkSync(BUILD_SCRIPT, link);
        expect(keyOf(link)).toBe(keyOf(BUILD_SCRIPT));
        expect(keyOf(BUILD_SCRIPT)).toMatch(/^[0-9a-f]{16}$/);
    });

    it("changes with the package list", () => {
        const copy = join(scratch, "build-lab-root.sh");
        copyFileSync(BUILD_SCRIPT, copy);
        expect(keyOf(copy)).toBe(keyOf(BUILD_SCRIPT));
        const text = readFileSync(copy, "utf8");
        writeFileSync(copy, text.replace(/^PACKAGES=/m, "PACKAGES=curl,"));
        expect(keyOf(copy)).not.toBe(keyOf(BUILD_SCRIPT));
    });
});
