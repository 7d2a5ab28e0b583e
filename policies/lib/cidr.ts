// Just enough CIDR arithmetic for the guardrails (the pack cannot import the program's components).

/** True for a CIDR with prefix length 0 in any spelling: 0.0.0.0/0, ::/0, ::0/0. */
export function isWholeInternet(cidr: string): boolean {
    return /\/0+$/.test(cidr.trim());
}

interface Ipv4Block {
    base: number;
    prefix: number;
}

function parseIpv4Cidr(cidr: string): Ipv4Block | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr.trim());
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = m[5] === undefined ? 32 : Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const address = octets.reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - prefix);
    return { base: address - (address % size), prefix };
}

/** Whether IPv4 block `inner` lies inside IPv4 block `outer`; false if either is not IPv4. */
export function ipv4Within(inner: string, outer: string): boolean {
    const a = parseIpv4Cidr(inner);
    const b = parseIpv4Cidr(outer);
    if (!a || !b || a.prefix < b.prefix) return false;
    const size = 2 ** (32 - b.prefix);
    return a.base - (a.base % size) === b.base;
}
