import { decodeUserData } from "../../components/render/userDataSize";
// Chained bastions and declared tunnels: each hop reachable only from the one before it, targets only
// from the last, and exactly the declared ports opened through it.
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, readSettings } from "../../components/config";
import { fileAt, parseCloudConfig } from "../../components/render/cloudConfig";
import { FAIL2BAN_JAIL_PATH } from "../../components/render/fail2ban";
import { MAX_STARTUPS, PER_SOURCE_MAX_STARTUPS, SSHD_DROPIN_PATH } from "../../components/render/sshd";
import { contains, parseCidr } from "../../components/net/cidr";
import { OfflineRun } from "../../offline/run";
import { named, ofType, plan, T } from "../helpers/program";

const str = (v: unknown) => String(v);
const userDataFile = (run: OfflineRun, instance: string, path: string) =>
    fileAt(parseCloudConfig(decodeUserData(named(run, T.instance, instance).inputs)), path);
/** Addresses a host's fail2ban never bans, and the pre-authentication limits of its sshd. */
const hopTrust = (run: OfflineRun, instance: string) => ({
    ignoreip: /^ignoreip = (.*)$/m.exec(userDataFile(run, instance, FAIL2BAN_JAIL_PATH))![1],
    startups: userDataFile(run, instance, SSHD_DROPIN_PATH)
        .split("\n")
        .filter((l) => /^(PerSource)?MaxStartups /.test(l)),
});
const STRICT = [`MaxStartups ${MAX_STARTUPS}`, `PerSourceMaxStartups ${PER_SOURCE_MAX_STARTUPS}`];
const BEHIND_HOP = ["MaxStartups 30:30:100", "PerSourceMaxStartups 100"];

const permitOpen = (run: OfflineRun, instance: string) =>
    /PermitOpen (.+)$/m.exec(
        fileAt(parseCloudConfig(decodeUserData(named(run, T.instance, instance).inputs)), SSHD_DROPIN_PATH).split(
            "Match Group",
        )[1]!,
    )![1];

describe("a two-hop chain with a tunnel", () => {
    let run: OfflineRun;
    const group = (name: string) => named(run, T.sg, name).id;
    const rules = (type: string, sg: string) =>
        ofType(run, type)
            .filter((r) => r.inputs.securityGroupId === group(sg))
            .map(
                (r) =>
                    `${str(r.inputs.fromPort)} ${r.inputs.referencedSecurityGroupId ? `sg:${str(r.inputs.referencedSecurityGroupId)}` : str(r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6)}`,
            )
            .sort();

    beforeAll(async () => {
        run = await plan({
            "jumpgate:bastions": [{ name: "edge" }, { name: "mgmt", instanceType: "t3.nano" }],
            "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }],
            "jumpgate:tunnels": [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }],
        });
    });

    it("puts the inner hop in a management subnet at a fixed address, without a public address", () => {
        const inner = named(run, T.instance, "test-mgmt-instance");
        const management = ofType(run, T.subnet).filter((s) => s.name.startsWith("test-management-"));
        expect(management.map((s) => s.inputs.cidrBlock)).toEqual(["10.42.64.0/19", "10.42.96.0/19"]);
        expect(inner.inputs.subnetId).toBe(management[0]!.id);
        expect(inner.inputs.privateIp).toBe("10.42.64.10");
        expect(inner.inputs.instanceType).toBe("t3.nano");
        expect(inner.inputs.associatePublicIpAddress).toBe(false);
        expect(inner.inputs.tags).toMatchObject({ "jumpgate:role": "bastion", "jumpgate:hop": "1" });
        const eipTargets = ofType(run, T.eipAssociation).map((a) => a.inputs.instanceId);
        expect(eipTargets).toEqual([named(run, T.instance, "test-edge-instance").id]);
    });

    it("lets each hop be reached only from the one before it, and targets only from the last", () => {
        expect(rules(T.ingress, "test-edge")).toEqual(["22 203.0.113.0/24"]);
        expect(rules(T.egress, "test-edge")).toEqual(
            ["22 sg:" + group("test-mgmt"), "443 0.0.0.0/0", "80 0.0.0.0/0"].sort(),
        );
        expect(rules(T.ingress, "test-mgmt")).toEqual(["22 sg:" + group("test-edge")]);
        expect(rules(T.egress, "test-mgmt")).toEqual(
            ["22 sg:" + group("test-targets"), "5432 10.42.160.10/32", "443 0.0.0.0/0", "80 0.0.0.0/0"].sort(),
        );
        expect(rules(T.ingress, "test-targets")).toEqual(
            ["22 sg:" + group("test-mgmt"), "5432 sg:" + group("test-mgmt")].sort(),
        );
    });

    it("lets the outer hop forward only to the inner hop, and the inner one to targets and the tunnel port", () => {
        expect(permitOpen(run, "test-edge-instance")).toBe("10.42.64.10:22");
        expect(permitOpen(run, "test-mgmt-instance")).toBe("10.42.128.10:22 10.42.160.10:22 10.42.160.10:5432");
    });

    it("lets no host ban or choke the hop in front of it: the outer hop's subnet, then the inner hop's address", () => {
        // AWS picks the outer hop's address at launch, inside its public subnet (10.42.0.0/19).
        expect(hopTrust(run, "test-edge-instance")).toEqual({ ignoreip: "127.0.0.1/8 ::1", startups: STRICT });
        expect(hopTrust(run, "test-mgmt-instance")).toEqual({
            ignoreip: "127.0.0.1/8 ::1 10.42.0.0/19",
            startups: BEHIND_HOP,
        });
        for (const t of ["test-app-1", "test-db-1"])
            expect(hopTrust(run, t)).toEqual({ ignoreip: "127.0.0.1/8 ::1 10.42.64.10", startups: BEHIND_HOP });
    });

    it("pins a host key per hop", () => {
        expect(
            ofType(run, T.privateKey)
                .map((k) => k.name)
                .sort(),
        ).toEqual(["test-app-1-host", "test-db-1-host", "test-edge-host", "test-mgmt-host", "test-operator"].sort());
    });
});

describe("the single-bastion default", () => {
    it("keeps its layout: one public hop named bastion, no management subnets, no tunnel rules", async () => {
        const run = await plan();
        expect(ofType(run, "jumpgate:index:Bastion").map((b) => b.name)).toEqual(["test-bastion"]);
        expect(ofType(run, T.subnet).map((s) => s.name)).toEqual([
            "test-public-0",
            "test-public-1",
            "test-private-0",
            "test-private-1",
        ]);
        expect([...ofType(run, T.ingress), ...ofType(run, T.egress)].map((r) => r.name).sort()).toEqual(
            [
                "test-bastion-ssh-in-0",
                "test-bastion-ssh-to-targets",
                "test-targets-ssh-from-bastion",
                "test-bastion-updates-80",
                "test-bastion-updates-443",
                "test-targets-updates-80",
                "test-targets-updates-443",
            ].sort(),
        );
        expect(permitOpen(run, "test-bastion-instance")).toBe("10.42.128.10:22");
        // The bastion faces the internet; the target trusts the bastion's public subnet, where AWS places it.
        const publicSubnet = str(named(run, T.subnet, "test-public-0").inputs.cidrBlock);
        const bastionIp = str(named(run, T.instance, "test-bastion-instance").state.privateIp);
        expect(hopTrust(run, "test-bastion-instance")).toEqual({ ignoreip: "127.0.0.1/8 ::1", startups: STRICT });
        expect(hopTrust(run, "test-app-1")).toEqual({
            ignoreip: `127.0.0.1/8 ::1 ${publicSubnet}`,
            startups: BEHIND_HOP,
        });
        expect(contains(parseCidr(publicSubnet), bastionIp)).toBe(true);
    });
});

describe("chain and tunnel config", () => {
    const problems = (values: Record<string, unknown>) => {
        const get = (k: string) => (values[k] === undefined ? undefined : JSON.stringify(values[k]));
        try {
            readSettings(get, "dev", Object.keys(values));
        } catch (e) {
            return (e as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
        }
        return [];
    };
    const base = { allowedCidrs: ["203.0.113.0/24"] };

    it("rejects duplicate hop names, names shared with targets and over-long chains", () => {
        expect(problems({ ...base, bastions: [{ name: "edge" }, { name: "edge" }] })).toEqual([
            "bastions[1].name: is used by another hop or a target; SSH aliases must be unique",
        ]);
        expect(problems({ ...base, bastions: [{ name: "app-1" }] })[0]).toContain("bastions[0].name");
        expect(problems({ ...base, bastions: ["a1", "a2", "a3", "a4", "a5"] })[0]).toContain("1 to 4 hops");
        expect(problems({ ...base, bastions: [] })[0]).toContain("1 to 4 hops");
    });

    it("rejects tunnels to unknown targets, bad ports and clashing local ports", () => {
        expect(
            problems({
                ...base,
                tunnels: [
                    { name: "pg", target: "nope", remotePort: 5432, localPort: 15432 },
                    { name: "web", target: "app-1", remotePort: 0, localPort: 8080 },
                    { name: "web2", target: "app-1", remotePort: 80, localPort: 8080 },
                    { name: "web2", target: "app-1", remotePort: 81, localPort: 8081 },
                ],
            }),
        ).toEqual([
            "tunnels[0].target: must name a target (app-1)",
            "tunnels[1].remotePort: must be a port number from 1 to 65535",
            "tunnels[3].name: is used by another tunnel; names must be unique",
        ]);
        // The clash of local ports is reported once the first tunnel on that port is valid.
        expect(
            problems({
                ...base,
                tunnels: [
                    { name: "web", target: "app-1", remotePort: 80, localPort: 8080 },
                    { name: "admin", target: "app-1", remotePort: 81, localPort: 8080 },
                ],
            }),
        ).toEqual(["tunnels[1].localPort: is used by another tunnel on this machine"]);
    });
});
