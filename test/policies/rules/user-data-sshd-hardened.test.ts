import { setUserData, userDataOf } from "../../helpers/userData";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange } from "../../helpers/policyHarness";

const POLICY = "user-data-sshd-hardened";
const messages = async (run: OfflineRun) =>
    (await evaluatePack(run)).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });
    const editUserData = (name: string, edit: (text: string) => string) =>
        withChange(run, T.instance, name, (p) => setUserData(p, edit(userDataOf(p))));

    it("passes the default stack", async () => {
        expect(await messages(run)).toEqual([]);
    });

    it("catches PasswordAuthentication yes in the sshd drop-in", async () => {
        const bad = editUserData("test-bastion-instance", (t) => {
            expect(t).toContain("      PasswordAuthentication no\n");
            return t.replace("PasswordAuthentication no", "PasswordAuthentication yes");
        });
        expect(await messages(bad)).toEqual([
            [
                "test-bastion-instance",
                'userDataBase64 sets "PasswordAuthentication yes"; jumpgate hosts accept public keys only, never as root.',
            ],
        ]);
    });

    it("catches PermitRootLogin yes, in any spelling sshd accepts", async () => {
        const bad = editUserData("test-app-1", (t) => t.replace("PermitRootLogin no", 'permitrootlogin="yes"'));
        expect(await messages(bad)).toEqual([
            [
                "test-app-1",
                'userDataBase64 sets "PermitRootLogin yes"; jumpgate hosts accept public keys only, never as root.',
            ],
        ]);
        const fine = editUserData("test-app-1", (t) =>
            t.replace("PermitRootLogin no", "PermitRootLogin prohibit-password"),
        );
        expect(await messages(fine)).toEqual([]);
    });

    it("catches cloud-config ssh_pwauth: true", async () => {
        const bad = editUserData("test-app-1", (t) => {
            expect(t).toContain("\nssh_pwauth: false\n");
            return t.replace("\nssh_pwauth: false\n", "\nssh_pwauth: true\n");
        });
        expect(await messages(bad)).toEqual([
            [
                "test-app-1",
                'userDataBase64 sets cloud-config ssh_pwauth: true, which writes "PasswordAuthentication yes"; set it to false.',
            ],
        ]);
    });

    it("reads gzipped base64 user data (userDataBase64)", async () => {
        const bad = withChange(run, T.instance, "test-app-1", (p) => {
            const text = userDataOf(p).replace("PasswordAuthentication no", "PasswordAuthentication yes");
            delete p.userData;
            p.userDataBase64 = gzipSync(Buffer.from(text)).toString("base64");
        });
        expect(await messages(bad)).toEqual([
            [
                "test-app-1",
                'userDataBase64 sets "PasswordAuthentication yes"; jumpgate hosts accept public keys only, never as root.',
            ],
        ]);
    });
});
