// host-local's address choice, pure: the usable range of a subnet, round robin after the last
// choice, wrapping, skipping the gateway and leased addresses, exhaustion, static checks.
import { describe, expect, test } from "bun:test";
import { formatAddress } from "../../src/ip/cidr";
import {
	addressValue,
	checkStaticAddress,
	leaseIndexOf,
	type Pool,
	pickAddress,
	poolOf,
} from "../../src/ipam/range";

const text = (p: Pool, v: bigint) => formatAddress(p.subnet.family, v);
const span = (p: Pool) => [text(p, p.start), text(p, p.end)];
const leased = (...ips: string[]) => new Set(ips.map(addressValue));

function pick(p: Pool, taken: Set<bigint>, last?: string): string {
	const at = last === undefined ? undefined : addressValue(last);
	return text(p, pickAddress(p, leaseIndexOf(taken), at, "tnc-n"));
}

describe("usable range", () => {
	test("never the network address or the IPv4 broadcast; the lease range is clamped to hosts", () => {
		expect(span(poolOf({ subnet: "10.236.1.0/24" }))).toEqual(["10.236.1.1", "10.236.1.254"]);
		// podman writes the broadcast as a range's end; it is still never handed out
		const r = poolOf({
			subnet: "10.236.1.0/24",
			lease_range: { start_ip: "10.236.1.129", end_ip: "10.236.1.255" },
		});
		expect(span(r)).toEqual(["10.236.1.129", "10.236.1.254"]);
		expect(
			span(poolOf({ subnet: "10.236.1.0/24", lease_range: { start_ip: "10.236.1.0" } })),
		).toEqual(["10.236.1.1", "10.236.1.254"]);
		// IPv6: the subnet-router anycast (first) address is skipped, the last one is usable
		expect(span(poolOf({ subnet: "fd36::/120" }))).toEqual(["fd36::1", "fd36::ff"]);
		// point to point (RFC 3021): every address
		expect(span(poolOf({ subnet: "10.236.1.0/31" }))).toEqual(["10.236.1.0", "10.236.1.1"]);
		expect(span(poolOf({ subnet: "10.236.1.7/32" }))).toEqual(["10.236.1.7", "10.236.1.7"]);
	});
});

describe("round robin", () => {
	const p = poolOf({ subnet: "10.236.1.0/29", gateway: "10.236.1.1" }); // .1 gw, .2-.6 hosts

	test("from the start, skipping the gateway; then the address after the last choice", () => {
		expect(pick(p, leased())).toBe("10.236.1.2");
		expect(pick(p, leased("10.236.1.2"), "10.236.1.2")).toBe("10.236.1.3");
		// a released address is not handed out again right away
		expect(pick(p, leased("10.236.1.3"), "10.236.1.3")).toBe("10.236.1.4");
	});

	test("wraps from the range's end to its start, skipping leased addresses on the way", () => {
		expect(pick(p, leased("10.236.1.2"), "10.236.1.6")).toBe("10.236.1.3");
		expect(pick(p, leased("10.236.1.6", "10.236.1.2", "10.236.1.3"), "10.236.1.5")).toBe(
			"10.236.1.4",
		);
		// a last choice outside the range (the range was changed) restarts at the start
		expect(pick(p, leased(), "10.236.1.200")).toBe("10.236.1.2");
	});

	test("a gateway inside a run of leases is stepped over like a lease", () => {
		const mid = poolOf({ subnet: "10.236.1.0/29", gateway: "10.236.1.4" });
		expect(pick(mid, leased("10.236.1.1", "10.236.1.2", "10.236.1.3", "10.236.1.5"))).toBe(
			"10.236.1.6",
		);
		expect(pick(mid, leased("10.236.1.6", "10.236.1.1"), "10.236.1.5")).toBe("10.236.1.2");
		expect(pick(mid, leased("10.236.1.1", "10.236.1.2", "10.236.1.3"), "10.236.1.2")).toBe(
			"10.236.1.5",
		);
	});

	test("an exhausted range is a clear error naming the range, subnet and network", () => {
		const all = leased("10.236.1.2", "10.236.1.3", "10.236.1.4", "10.236.1.5", "10.236.1.6");
		expect(() => pick(p, all, "10.236.1.4")).toThrow(
			"failed to find free IP in range: 10.236.1.1 - 10.236.1.6 (subnet 10.236.1.0/29 of network tnc-n is exhausted)",
		);
		// leases outside the range (static IPs) do not count against it
		const ranged = poolOf({
			subnet: "10.236.1.0/24",
			gateway: "10.236.1.1",
			lease_range: { start_ip: "10.236.1.10", end_ip: "10.236.1.11" },
		});
		expect(pick(ranged, leased("10.236.1.2", "10.236.1.10"))).toBe("10.236.1.11");
		expect(() => pick(ranged, leased("10.236.1.11", "10.236.1.10"))).toThrow(/exhausted/);
	});

	test("IPv6 and huge ranges: bounded by the number of leases, not the range", () => {
		const v6 = poolOf({ subnet: "fd36:1::/64", gateway: "fd36:1::1" });
		expect(pick(v6, leased())).toBe("fd36:1::2");
		expect(pick(v6, leased("fd36:1::2", "fd36:1::3"), "fd36:1::1")).toBe("fd36:1::4");
		expect(pick(v6, leased(), "fd36:1::ffff:ffff:ffff:ffff")).toBe("fd36:1::2");
	});
});

describe("static addresses", () => {
	const p = poolOf({ subnet: "10.236.1.0/24", gateway: "10.236.1.1" });
	test("network, broadcast and gateway are refused; anything else in the subnet is fine", () => {
		expect(() => checkStaticAddress(p, "10.236.1.0", "tnc-n")).toThrow(
			"requested static ip 10.236.1.0 is the network address of 10.236.1.0/24",
		);
		expect(() => checkStaticAddress(p, "10.236.1.255", "tnc-n")).toThrow(
			"requested static ip 10.236.1.255 is the broadcast address of 10.236.1.0/24",
		);
		expect(() => checkStaticAddress(p, "10.236.1.1", "tnc-n")).toThrow(
			"requested static ip 10.236.1.1 is the gateway of network tnc-n",
		);
		expect(() => checkStaticAddress(p, "10.236.1.254", "tnc-n")).not.toThrow();
		const v6 = poolOf({ subnet: "fd36::/64" });
		expect(() => checkStaticAddress(v6, "fd36::ffff:ffff:ffff:ffff", "tnc-n")).not.toThrow();
	});
});
