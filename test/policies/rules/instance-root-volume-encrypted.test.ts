import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange } from "../../helpers/policyHarness";

const POLICY = "instance-root-volume-encrypted";
const messages = async (run: OfflineRun) =>
    (await evaluatePack(run)).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });

    it("passes the default stack", async () => {
        expect(await messages(run)).toEqual([]);
    });

    it("catches an unencrypted root volume", async () => {
        const bad = withChange(run, T.instance, "test-app-1", (p) => {
            (p.rootBlockDevice as Record<string, unknown>).encrypted = false;
        });
        expect(await messages(bad)).toEqual([
            [
                "test-app-1",
                "rootBlockDevice.encrypted is false; set rootBlockDevice: { encrypted: true } (with a KMS key if you need your own).",
            ],
        ]);
    });

    it("catches an instance without rootBlockDevice (the AMI's default, unencrypted)", async () => {
        const bad = withChange(run, T.instance, "test-bastion-instance", (p) => delete p.rootBlockDevice);
        expect(await messages(bad)).toEqual([
            [
                "test-bastion-instance",
                "rootBlockDevice.encrypted is unset (no rootBlockDevice); set rootBlockDevice: { encrypted: true } " +
                    "(with a KMS key if you need your own).",
            ],
        ]);
    });

    it("catches an unencrypted extra EBS volume", async () => {
        const bad = withChange(run, T.instance, "test-app-1", (p) => {
            p.ebsBlockDevices = [
                { deviceName: "/dev/sdf", volumeSize: 10, encrypted: true },
                { deviceName: "/dev/sdg", volumeSize: 10 },
            ];
        });
        expect(await messages(bad)).toEqual([
            ["test-app-1", "ebsBlockDevices[1] (/dev/sdg) is not encrypted; set encrypted: true."],
        ]);
    });
});
