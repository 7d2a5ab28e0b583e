// Small, dependency-free CIDR arithmetic for IPv4 and IPv6 (bigint based), used by config validation,
// subnet planning and the lab. Pure: no Pulumi imports.
import { isIPv4, isIPv6 } from "node:net";

export interface Cidr {
    version: 4 | 6;
    /** Network address as an integer (host bits cleared). */
    network: bigint;
    prefix: number;
}

const bits = (v: 4 | 6): number => (v === 4 ? 32 : 128);

/** An IPv4 or IPv6 address as an integer, or undefined when `ip` is neither. */
export function parseIp(ip: string): { version: 4 | 6; value: bigint } | undefined {
    if (isIPv4(ip)) {
        const value = ip.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
        return { version: 4, value };
    }
    if (isIPv6(ip)) {
        if (ip.includes(".")) return undefined; // IPv4-mapped forms are not accepted in rules
        const [head, tail] = ip.split("::") as [string, string | undefined];
        const h = head ? head.split(":") : [];
        const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
        const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
        const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
        return { version: 6, value };
    }
    return undefined;
}

/** Formats an integer address of the given version. */
export function formatIp(value: bigint, version: 4 | 6): string {
    if (version === 4) {
        return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 255n).toString()).join(".");
    }
    const groups: string[] = [];
    for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
    // Compress the longest run of zero groups, as RFC 5952 asks.
    let best = { at: -1, len: 0 };
    for (let i = 0; i < 8;) {
        if (groups[i] !== "0") {
            i++;
            continue;
        }
        let j = i;
        while (j < 8 && groups[j] === "0") j++;
        if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
        i = j;
    }
    if (best.at < 0) return groups.join(":");
    return `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.len).join(":")}`;
}

/** Why `text` is not a canonical CIDR, or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
    const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
    if (!m) return "is not in address/prefix form (e.g. 203.0.113.0/24 or 2001:db8::/48)";
    const ip = parseIp(m[1]!);
    if (!ip) return "does not start with a valid IPv4 or IPv6 address";
    const prefix = Number(m[2]);
    if (prefix > bits(ip.version)) return `has a prefix longer than /${bits(ip.version)}`;
    const hostMask = (1n << BigInt(bits(ip.version) - prefix)) - 1n;
    if ((ip.value & hostMask) !== 0n) {
        return `has host bits set; the network is ${formatIp(ip.value & ~hostMask, ip.version)}/${prefix}`;
    }
    return undefined;
}

/** Parses a canonical CIDR; throws with the reason otherwise. */
export function parseCidr(text: string): Cidr {
    const problem = cidrProblem(text);
    if (problem) throw new Error(`${text} ${problem}`);
    const [addr, prefix] = text.split("/") as [string, string];
    const ip = parseIp(addr)!;
    return { version: ip.version, network: ip.value, prefix: Number(prefix) };
}

/** Number of addresses in the block. */
export function size(c: Cidr): bigint {
    return 1n << BigInt(bits(c.version) - c.prefix);
}

export function formatCidr(c: Cidr): string {
    return `${formatIp(c.network, c.version)}/${c.prefix}`;
}

/** True when the two blocks share any address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
    if (a.version !== b.version) return false;
    const aEnd = a.network + size(a);
    const bEnd = b.network + size(b);
    return a.network < bEnd && b.network < aEnd;
}

/** True when `ip` lies inside `c`. */
export function contains(c: Cidr, ip: string): boolean {
    const parsed = parseIp(ip);
    return !!parsed && parsed.version === c.version && parsed.value >= c.network && parsed.value < c.network + size(c);
}

/** The `index`-th block of `newBits` more prefix bits inside `c` (like Terraform's cidrsubnet). */
export function subnet(c: Cidr, newBits: number, index: number): Cidr {
    const prefix = c.prefix + newBits;
    if (prefix > bits(c.version)) throw new Error(`cannot split /${c.prefix} by ${newBits} bits`);
    if (index < 0 || index >= 2 ** newBits) throw new Error(`subnet index ${index} out of range`);
    return {
        version: c.version,
        network: c.network + BigInt(index) * (1n << BigInt(bits(c.version) - prefix)),
        prefix,
    };
}

/** The address at `offset` from the network address. */
export function hostAt(c: Cidr, offset: number): string {
    if (BigInt(offset) >= size(c)) throw new Error(`offset ${offset} is outside ${formatCidr(c)}`);
    return formatIp(c.network + BigInt(offset), c.version);
}

/** True for 0.0.0.0/0 and ::/0 and any block that contains the whole address space. */
export function isAnywhere(c: Cidr): boolean {
    return c.prefix === 0;
}
