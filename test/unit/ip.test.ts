// The ip leaf module: CIDR parsing, containment, overlap and address arithmetic, both families.
import { expect, test } from "bun:test";
import {
	contains,
	firstFreeSubnet,
	formatSubnet,
	lastHostAddress,
	nthAddress,
	overlaps,
	parseCidr,
	parseSubnet,
} from "../../src/ip/cidr";
import { slirpHostAddr } from "../../src/slirp/options";

test("a subnet clears host bits; a CIDR keeps the interface address", () => {
	expect(formatSubnet(parseSubnet("10.1.2.7/24"))).toBe("10.1.2.0/24");
	expect(formatSubnet(parseSubnet("fd00:1::5/64"))).toBe("fd00:1::/64");
	expect(parseCidr("10.1.2.7/24")).toEqual({ family: 4, address: "10.1.2.7", prefixLen: 24 });
	for (const bad of ["10.1.2.0", "10.1.2.0/33", "x/8", "fd00::/129", "10.1.2.0/24/1"])
		expect(() => parseSubnet(bad)).toThrow(/invalid CIDR/);
});

test("containment and overlap stay within a family", () => {
	const s = parseSubnet("10.9.0.0/16");
	expect(contains(s, "10.9.255.1")).toBe(true);
	expect(contains(s, "10.10.0.1")).toBe(false);
	expect(contains(s, "::a09:1")).toBe(false);
	expect(overlaps(s, parseSubnet("10.9.4.0/24"))).toBe(true);
	expect(overlaps(parseSubnet("10.9.4.0/24"), s)).toBe(true);
	expect(overlaps(s, parseSubnet("10.8.0.0/16"))).toBe(false);
	expect(overlaps(parseSubnet("fd00::/8"), parseSubnet("fd12::/64"))).toBe(true);
});

test("n-th and last host addresses", () => {
	expect(nthAddress(parseSubnet("10.9.0.0/24"), 1)).toBe("10.9.0.1");
	expect(nthAddress(parseSubnet("fd00::/64"), 258)).toBe("fd00::102");
	expect(lastHostAddress(parseSubnet("10.9.0.0/24"))).toBe("10.9.0.254");
	expect(lastHostAddress(parseSubnet("10.9.0.0/31"))).toBe("10.9.0.1");
	expect(lastHostAddress(parseSubnet("fd00::/120"))).toBe("fd00::ff");
	expect(slirpHostAddr(undefined, 100)).toBe("10.0.2.100");
	expect(slirpHostAddr("10.5.7.0/23", 3)).toBe("10.5.6.3");
});

test("the first free /24 skips every overlap", () => {
	const taken = ["10.89.0.0/24", "10.89.1.0/25", "10.89.2.0/23"].map(parseSubnet);
	expect(formatSubnet(firstFreeSubnet(taken) as never)).toBe("10.89.4.0/24");
});
