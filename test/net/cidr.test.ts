import { describe, expect, it } from "vitest";
import { cidrProblem, contains, formatCidr, hostAt, overlaps, parseCidr, subnet } from "../../components/net/cidr";

describe("cidr", () => {
    it("parses canonical IPv4 and IPv6 blocks and formats them back", () => {
        for (const c of [
            "10.42.0.0/16",
            "0.0.0.0/0",
            "203.0.113.7/32",
            "2001:db8::/32",
            "::/0",
            "2001:db8:0:1::/64",
            "fe80::1/128",
        ]) {
            expect(formatCidr(parseCidr(c))).toBe(c);
        }
    });

    it("explains what is wrong with a bad block", () => {
        expect(cidrProblem("10.0.0.1/8")).toContain("network is 10.0.0.0/8");
        expect(cidrProblem("10.0.0.0")).toContain("address/prefix");
        expect(cidrProblem("300.0.0.0/8")).toContain("valid IPv4 or IPv6");
        expect(cidrProblem("10.0.0.0/33")).toContain("/32");
        expect(cidrProblem("2001:db8::1/64")).toContain("2001:db8::/64");
    });

    it("detects overlap only within one address family", () => {
        expect(overlaps(parseCidr("10.0.0.0/8"), parseCidr("10.1.0.0/16"))).toBe(true);
        expect(overlaps(parseCidr("10.0.0.0/16"), parseCidr("10.1.0.0/16"))).toBe(false);
        expect(overlaps(parseCidr("0.0.0.0/0"), parseCidr("::/0"))).toBe(false);
        expect(overlaps(parseCidr("2001:db8::/32"), parseCidr("2001:db8:ffff::/48"))).toBe(true);
    });

    it("carves subnets and host addresses like cidrsubnet/cidrhost", () => {
        const vpc = parseCidr("10.42.0.0/16");
        expect(formatCidr(subnet(vpc, 2, 2))).toBe("10.42.128.0/18");
        expect(hostAt(subnet(vpc, 2, 3), 10)).toBe("10.42.192.10");
        expect(contains(subnet(vpc, 2, 3), "10.42.255.255")).toBe(true);
        expect(contains(subnet(vpc, 2, 3), "10.43.0.0")).toBe(false);
        expect(() => hostAt(parseCidr("10.0.0.0/28"), 16)).toThrow();
    });
});
