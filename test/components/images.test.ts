// Which image hosts boot, across deploys: a newly published image never moves a host by itself; a pin in
// config (or the image recorded at the first deploy) is what every creation and replacement boots; moving
// to the newest image is one explicit config change; changing `os` changes the image.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../components/config";
import { OfflineRun } from "../../offline/run";
import { BASE_CONFIG, named, ofType, plan, T } from "../helpers/program";

const LATER = "20261215-0300";
const STASH = "pulumi:index:Stash";

const amiOf = (run: OfflineRun, host: string) => String(named(run, T.instance, host).inputs.ami);
const hosts = ["test-bastion-instance", "test-app-1"];
/** The newest image the program looked up for an architecture (not the check of a chosen image). */
function newestLookup(run: OfflineRun, arch: string) {
    const call = run.calls.find((c) => {
        const filters = c.inputs.filters as { name: string; values: string[] }[];
        return (
            c.token === "aws:ec2/getAmi:getAmi" &&
            filters.some((f) => f.name === "architecture" && f.values[0] === arch)
        );
    });
    if (!call) throw new Error(`no newest-image lookup for ${arch}`);
    return call.result;
}
/** What a deploy of `run` leaves in state for its Stash resources. */
const recorded = (run: OfflineRun) => Object.fromEntries(ofType(run, STASH).map((s) => [s.name, s.state.output]));

describe("images", () => {
    it("records the newest image at the first deploy and boots every host of that architecture from it", async () => {
        const run = await plan();
        const newest = newestLookup(run, "arm64");
        const stash = named(run, STASH, "test-image-debian-13-arm64");
        expect(stash.inputs.input).toBe(newest.id);
        for (const h of hosts) {
            expect(amiOf(run, h), h).toBe(newest.id);
            expect(named(run, T.instance, h).inputs.tags, h).toMatchObject({
                "jumpgate:image": "debian-13/arm64 recorded",
            });
        }
    });

    it("keeps hosts on the recorded image when a newer one is published and an unrelated change is deployed", async () => {
        const first = await plan();
        const second = await plan({ "jumpgate:tags": { CostCenter: "platform" } }, "test", {
            newestImage: LATER,
            stashed: recorded(first),
        });
        // The newer image was seen...
        expect(newestLookup(second, "arm64").id).not.toBe(newestLookup(first, "arm64").id);
        expect(newestLookup(second, "arm64").name).toBe(`debian-13-arm64-${LATER}`);
        // ...and no host follows it.
        for (const h of hosts) expect(amiOf(second, h), h).toBe(amiOf(first, h));
    });

    it("boots the pinned image, whatever is published later, and records nothing for it", async () => {
        const first = await plan();
        const pinned = amiOf(first, "test-app-1");
        const run = await plan(
            { "jumpgate:amiIds": { "debian-13/arm64": pinned }, "jumpgate:tags": { CostCenter: "platform" } },
            "test",
            { newestImage: LATER },
        );
        expect(newestLookup(run, "arm64").id).not.toBe(pinned);
        for (const h of hosts) {
            expect(amiOf(run, h), h).toBe(pinned);
            expect(named(run, T.instance, h).inputs.tags, h).toMatchObject({
                "jumpgate:image": "debian-13/arm64 pinned",
            });
        }
        expect(ofType(run, STASH)).toEqual([]);
    });

    it("moves hosts to the newest image when its id is pinned (the documented explicit step)", async () => {
        const first = await plan();
        const published = await plan({}, "test", { newestImage: LATER, stashed: recorded(first) });
        const newest = String(newestLookup(published, "arm64").id);
        const moved = await plan({ "jumpgate:amiIds": { "debian-13/arm64": newest } }, "test", {
            newestImage: LATER,
            stashed: recorded(first),
        });
        for (const h of hosts) {
            expect(amiOf(moved, h), h).toBe(newest);
            expect(amiOf(moved, h), h).not.toBe(amiOf(first, h));
        }
    });

    it("never ignores AMI changes, so every creation and replacement boots the chosen image", async () => {
        const run = await plan();
        for (const i of ofType(run, T.instance)) expect(i.ignoreChanges ?? [], i.name).not.toContain("ami");
    });

    it("pins per architecture: an x86 target gets its own image, the arm64 hosts keep the pin", async () => {
        const first = await plan();
        const run = await plan({
            "jumpgate:amiIds": { "debian-13/arm64": amiOf(first, "test-app-1") },
            "jumpgate:targets": [{ name: "app-1" }, { name: "db-1", instanceType: "t3.small" }],
        });
        expect(amiOf(run, "test-app-1")).toBe(amiOf(first, "test-app-1"));
        expect(amiOf(run, "test-db-1")).toBe(newestLookup(run, "x86_64").id);
        expect(named(run, T.instance, "test-db-1").inputs.tags).toMatchObject({
            "jumpgate:image": "debian-13/x86_64 recorded",
        });
    });

    it("boots an image of the new OS when os changes, recorded under the new OS", async () => {
        const debian = await plan();
        const ubuntu = await plan({ "jumpgate:os": "ubuntu-24.04" }, "test", { stashed: recorded(debian) });
        expect(ofType(ubuntu, STASH).map((s) => s.name)).toEqual(["test-image-ubuntu-24.04-arm64"]);
        expect(newestLookup(ubuntu, "arm64").name).toMatch(
            /^ubuntu\/images\/hvm-ssd-gp3\/ubuntu-noble-24\.04-arm64-server-/,
        );
        for (const h of hosts) {
            expect(amiOf(ubuntu, h), h).toBe(newestLookup(ubuntu, "arm64").id);
            expect(amiOf(ubuntu, h), h).not.toBe(amiOf(debian, h));
        }
    });

    it("refuses a pin of another OS, saying that changing os replaces every host", async () => {
        const error = await plan({
            "jumpgate:os": "ubuntu-24.04",
            "jumpgate:amiIds": { "debian-13/arm64": "ami-0123456789abcdef0" },
        }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigError);
        const [p] = (error as ConfigError).problems;
        expect(p).toMatchObject({ key: 'amiIds["debian-13/arm64"]', value: '"ami-0123456789abcdef0"' });
        expect(p!.message).toContain("every host is replaced");
        expect(p!.fix).toContain(`pulumi config rm --path 'amiIds["debian-13/arm64"]'`);
    });

    it("fails the deploy, naming the pin and the fix, when a pinned AMI is not an official image of that OS", async () => {
        const ubuntu = await plan({ "jumpgate:os": "ubuntu-24.04" });
        const ubuntuAmi = amiOf(ubuntu, "test-app-1");
        const newestDebian = newestLookup(await plan(), "arm64").id;
        // Its own process: the failure surfaces as an unhandled rejection, as under `pulumi up`.
        const config = { ...BASE_CONFIG, "jumpgate:amiIds": { "debian-13/arm64": ubuntuAmi } };
        const result = spawnSync(
            path.resolve(__dirname, "../../node_modules/.bin/tsx"),
            [path.resolve(__dirname, "../fixtures/planWithSubnets.ts"), JSON.stringify(config), "{}"],
            { encoding: "utf8", timeout: 60_000 },
        );
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(
            `amiIds["debian-13/arm64"] = ${ubuntuAmi} is not an official debian-13/arm64 image`,
        );
        expect(result.stderr).toContain(
            `fix (the newest one): pulumi config set --path 'amiIds["debian-13/arm64"]' ${newestDebian}`,
        );
    });
});
