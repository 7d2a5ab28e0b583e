// What an instance boots with: its user data as text (plain, base64 or gzip), and where in it private
// keys sit. cloud-init installs host keys from `ssh_keys.<type>_private` (or a write_files entry at
// /etc/ssh/ssh_host_<type>_key); any other private key in user data is a leaked credential.
import { gunzipSync } from "node:zlib";
import { ResourceValidationArgs } from "@pulumi/policy";
import { isMap, isScalar, isSeq, parseDocument } from "yaml";

export const USER_DATA_TYPES = {
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
} as const;

const USER_DATA_TYPE_LIST: readonly string[] = Object.values(USER_DATA_TYPES);

/**
 * The user data a user-data policy checks: marks the policy not applicable to anything but instances
 * and launch templates, then reads the text as `userDataText` does.
 */
export function userDataOf(args: ResourceValidationArgs): { text: string; prop: string } | undefined {
    if (!USER_DATA_TYPE_LIST.includes(args.type)) {
        args.notApplicable("Policy only applies to instances and launch templates");
    }
    return userDataText(args.type, args.props);
}

/**
 * User data as text, from whichever property carries it; undefined if there is none. Reads through the
 * SDK's proxy, so user data that is not known yet (a first preview) surfaces as the SDK's
 * "can't run policy during preview" advisory rather than a pass.
 */
export function userDataText(type: string, props: Record<string, unknown>): { text: string; prop: string } | undefined {
    if (type === USER_DATA_TYPES.instance) {
        const plain = props.userData;
        if (typeof plain === "string" && plain !== "")
            return { text: decode(Buffer.from(plain, "utf8")), prop: "userData" };
        const b64 = props.userDataBase64;
        if (typeof b64 === "string" && b64 !== "")
            return { text: decode(Buffer.from(b64, "base64")), prop: "userDataBase64" };
    } else if (type === USER_DATA_TYPES.launchTemplate) {
        const b64 = props.userData;
        if (typeof b64 === "string" && b64 !== "")
            return { text: decode(Buffer.from(b64, "base64")), prop: "userData" };
    }
    return undefined;
}

/** cloud-init accepts gzip-compressed user data; so do the checks. */
function decode(bytes: Buffer): string {
    const raw = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
    return raw.toString("utf8");
}

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File-\d+:/;
const HOST_KEY_FIELD = /^(rsa|dsa|ecdsa|ed25519)_private$/;
const HOST_KEY_FILE = /^\/etc\/ssh\/ssh_host_(rsa|dsa|ecdsa|ed25519)_key$/;

/** A private key found in user data. */
export interface FoundKey {
    /** Where: `ssh_keys.ed25519_private`, `write_files[2].content`, or `user data` when it is not cloud-config. */
    path: string;
    /** True for an SSH host key that cloud-init installs. */
    hostKey: boolean;
}

function isCloudConfig(text: string): boolean {
    return /^#cloud-config[ \t]*\r?$/m.test(text.split("\n", 1)[0] ?? "");
}

/** Every private key in the user data, and whether it is a host key. */
export function findPrivateKeys(text: string): FoundKey[] {
    if (!PRIVATE_KEY.test(text)) return [];
    if (!isCloudConfig(text)) return [{ path: "user data (not cloud-config)", hostKey: false }];
    const doc = parseDocument(text);
    if (doc.errors.length > 0) return [{ path: "user data (cloud-config that is not valid YAML)", hostKey: false }];
    const found: FoundKey[] = [];
    forEachString(doc.contents, [], (value, path) => {
        if (PRIVATE_KEY.test(value)) found.push({ path: formatPath(path), hostKey: isHostKey(path) });
    });
    const files = (doc.toJS() as { write_files?: unknown }).write_files;
    // A write_files entry that writes /etc/ssh/ssh_host_<type>_key is a host key too.
    const isHostKeyFile = (i: number) =>
        Array.isArray(files) && HOST_KEY_FILE.test(String((files[i] as { path?: unknown } | undefined)?.path ?? ""));
    return found.map((k) => {
        const m = /^write_files\[(\d+)\]\.content$/.exec(k.path);
        return m && isHostKeyFile(Number(m[1])) ? { ...k, hostKey: true } : k;
    });
}

type YamlPath = (string | number)[];

/** Calls `visit` with every string scalar under `node` and its path (map keys and sequence indexes). */
function forEachString(node: unknown, path: YamlPath, visit: (value: string, path: YamlPath) => void): void {
    if (isScalar(node)) {
        if (typeof node.value === "string") visit(node.value, path);
    } else if (isMap(node)) {
        for (const pair of node.items)
            forEachString(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : "?"], visit);
    } else if (isSeq(node)) {
        node.items.forEach((item, i) => forEachString(item, [...path, i], visit));
    }
}

function isHostKey(path: (string | number)[]): boolean {
    return path.length === 2 && path[0] === "ssh_keys" && HOST_KEY_FIELD.test(String(path[1]));
}

function formatPath(path: (string | number)[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** Whether the text sets sshd `keyword` to yes (`Keyword yes`, `Keyword=yes`, any case, optionally quoted). */
export function setsYes(text: string, keyword: string): boolean {
    return new RegExp(`\\b${keyword}(?:\\s*=\\s*|\\s+)"?yes"?(?![\\w-])`, "i").test(text);
}

/** Whether a cloud-config turns password logins on through `ssh_pwauth`. */
export function cloudConfigEnablesPasswords(text: string): boolean {
    if (!isCloudConfig(text)) return false;
    const doc = parseDocument(text);
    if (doc.errors.length > 0) return false;
    const value: unknown = doc.get("ssh_pwauth");
    return value === true || (typeof value === "string" && /^(true|yes|on|1)$/i.test(value));
}

/** An OpenSSH public key (type and base64 blob) anywhere in a line. */
const PUBLIC_KEY =
    /(?:^|[\s"',])((?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) AAAA[A-Za-z0-9+/]+={0,2})/;
/** An authorized-keys line whose options make its key a certificate authority, not a login key. */
const CERT_AUTHORITY_LINE = /^\s*(?:[^\s"]|"[^"]*")*\bcert-authority\b(?:[^\s"]|"[^"]*")*\s+(ssh-|ecdsa-|sk-)/;
const HOST_PUBLIC_KEY_FIELD = /^(rsa|dsa|ecdsa|ed25519)_public$/;

/** A public key found in user data that is neither a host key nor a certificate authority. */
export interface FoundPublicKey {
    /** `users[0].ssh_authorized_keys[0]`, `write_files[3].content`, or `user data` when it is not cloud-config. */
    path: string;
    /** `ssh-ed25519 AAAAC3...`, shortened. */
    key: string;
}

/**
 * Login keys in user data: every OpenSSH public key except the host's own (`ssh_keys.<type>_public`) and
 * CA keys on `cert-authority` lines (what hosts trusting a user CA carry instead).
 */
export function findLoginPublicKeys(text: string): FoundPublicKey[] {
    const inText = (value: string, path: string): FoundPublicKey[] =>
        value
            .split("\n")
            .filter((line) => !CERT_AUTHORITY_LINE.test(line))
            .flatMap((line) => {
                const m = PUBLIC_KEY.exec(line);
                return m ? [{ path, key: `${m[1]!.slice(0, 32)}...` }] : [];
            });
    if (!isCloudConfig(text)) return inText(text, "user data (not cloud-config)");
    const doc = parseDocument(text);
    if (doc.errors.length > 0) return inText(text, "user data (cloud-config that is not valid YAML)");
    const found: FoundPublicKey[] = [];
    forEachString(doc.contents, [], (value, path) => {
        const hostKey = path.length === 2 && path[0] === "ssh_keys" && HOST_PUBLIC_KEY_FIELD.test(String(path[1]));
        if (!hostKey) found.push(...inText(value, formatPath(path)));
    });
    return found;
}

/** Whether user data makes sshd trust a user CA (cert-authority lines, or TrustedUserCAKeys). */
export function trustsUserCa(text: string): boolean {
    return text.split("\n").some((line) => CERT_AUTHORITY_LINE.test(line)) || /\bTrustedUserCAKeys\s+\//i.test(text);
}
