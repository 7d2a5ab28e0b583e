// User data as EC2 gets it: plain text while it fits 16 KiB, gzipped (cloud-init uncompresses it) past that,
// so a bastion that lists many targets and carries the audit record builder still boots.
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fileAt, parseCloudConfig } from "../../components/render/cloudConfig";
import { SSHD_DROPIN_PATH } from "../../components/render/sshd";
import {
    USER_DATA_LIMIT_BYTES,
    decodeUserData,
    encodeUserData,
    encodedUserDataBytes,
} from "../../components/render/userDataSize";
import { T, named, plan } from "../helpers/program";

describe("encoding", () => {
    it("keeps a document that fits as text, and gzips one that does not", () => {
        const small = "#cloud-config\npackages: [fail2ban]\n";
        expect(encodeUserData(small)).toEqual({ userData: small });
        const big = `#cloud-config\nwrite_files:\n${"  - {path: /x, content: 10.42.128.10:22}\n".repeat(600)}`;
        expect(Buffer.byteLength(big)).toBeGreaterThan(USER_DATA_LIMIT_BYTES);
        const e = encodeUserData(big);
        expect(e.userData).toBeUndefined();
        expect(gunzipSync(Buffer.from(e.userDataBase64!, "base64")).toString("utf8")).toBe(big);
        expect(encodedUserDataBytes(big)).toBe(Buffer.from(e.userDataBase64!, "base64").length);
        expect(encodedUserDataBytes(big)).toBeLessThan(USER_DATA_LIMIT_BYTES);
        expect(decodeUserData(e)).toBe(big);
        expect(decodeUserData({ userData: small })).toBe(small);
    });
});

describe("the program with 200 targets", () => {
    it("sends the bastion's document gzipped, under EC2's limit, with every target listed", async () => {
        const targets = Array.from({ length: 200 }, (_, i) => ({ name: `host-${i + 1}` }));
        const run = await plan({ "jumpgate:targets": targets });
        const inputs = named(run, T.instance, "test-bastion-instance").inputs;
        expect(typeof inputs.userData).not.toBe("string");
        const bytes = Buffer.from(String(inputs.userDataBase64), "base64");
        expect(bytes.length).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
        const doc = parseCloudConfig(decodeUserData(inputs));
        // The jump group's PermitOpen (the last one; the first is the default `none`).
        const lines = [...fileAt(doc, SSHD_DROPIN_PATH).matchAll(/^\s*PermitOpen (.*)$/gm)];
        expect(lines.at(-1)![1]!.split(" ")).toHaveLength(200);
        // A target's document does not grow with the stack (it names only its hop), and fits too.
        const target = decodeUserData(named(run, T.instance, "test-host-1").inputs);
        expect(encodedUserDataBytes(target)).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
    }, 60_000);
});
