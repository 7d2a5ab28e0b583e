// The subset of the cloud-config format jumpgate writes, and one parser for it, so tests and the
// lab read files, users and keys out of the very document an instance boots with.
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";

/** A `users:` entry (cloud-init cc_users_groups). */
export interface CloudConfigUser {
    name: string;
    gecos?: string;
    /** Comma-separated supplementary groups. */
    groups?: string;
    shell?: string;
    lock_passwd?: boolean;
    sudo?: string | string[] | false;
    ssh_authorized_keys?: string[];
}

/** A `write_files:` entry (cloud-init cc_write_files). */
export interface CloudConfigFile {
    path: string;
    content: string;
    /** Octal string, e.g. `'0644'`. */
    permissions?: string;
    /** `user:group`. */
    owner?: string;
    /** Write in the final stage, after packages are installed. */
    defer?: boolean;
    /** `gz+b64`: `content` is the gzipped file in base64 (cloud-init decodes it). */
    encoding?: "gz+b64";
}

/** The keys jumpgate's documents use; anything else is kept in `extra`. */
export interface CloudConfig {
    hostname?: string;
    users: (CloudConfigUser | "default")[];
    groups?: (string | Record<string, string[]>)[];
    write_files: CloudConfigFile[];
    ssh_keys?: { ed25519_private?: string; ed25519_public?: string };
    packages?: string[];
    runcmd?: (string | string[])[];
    extra: Record<string, unknown>;
}

const known = new Set(["hostname", "users", "groups", "write_files", "ssh_keys", "packages", "runcmd"]);

/** Parses a `#cloud-config` document; throws if it is not one. */
export function parseCloudConfig(doc: string): CloudConfig {
    if (!doc.startsWith("#cloud-config\n"))
        throw new Error("not a #cloud-config document (first line must be #cloud-config)");
    const raw: unknown = parse(doc);
    if (raw === null || typeof raw !== "object" || Array.isArray(raw))
        throw new Error("cloud-config is not a YAML mapping");
    const obj = raw as Record<string, unknown>;
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (!known.has(k)) extra[k] = v;
    return {
        hostname: obj.hostname as string | undefined,
        users: (obj.users as CloudConfig["users"]) ?? [],
        groups: obj.groups as CloudConfig["groups"],
        write_files: (obj.write_files as CloudConfigFile[]) ?? [],
        ssh_keys: obj.ssh_keys as CloudConfig["ssh_keys"],
        packages: obj.packages as string[] | undefined,
        runcmd: obj.runcmd as CloudConfig["runcmd"],
        extra,
    };
}

/** The content of the file the document writes at `path`; throws when it writes none there. */
export function fileAt(config: CloudConfig, path: string): string {
    const file = config.write_files.find((f) => f.path === path);
    if (!file) throw new Error(`cloud-config writes no file at ${path}`);
    return file.encoding === "gz+b64" ? gunzipSync(Buffer.from(file.content, "base64")).toString("utf8") : file.content;
}
