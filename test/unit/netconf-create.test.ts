// `network create` with podman 4.3's semantics: subnets, gateways and ranges paired in order,
// automatic subnets and names, options, macvlan, and every refusal (podman's texts where it has one).
import { describe, expect, test } from "bun:test";
import { type CreateContext, type CreateFlags, planNetworkCreate } from "../../src/netconf/create";
import { formatNetworkDef } from "../../src/netconf/format";
import type { NetworkDef } from "../../src/netconf/schema";
import { parseNetworkDef } from "../../src/netconf/validate";

const NOW = new Date("2026-11-30T05:42:32.290Z");
// A fixed "random" source: each call returns bytes 0x11, 0x12, ... so IDs and ULAs are predictable.
function counter(): (n: number) => Uint8Array {
	let next = 0x11;
	return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}
const ctx = (over: Partial<CreateContext> = {}): CreateContext => ({
	now: NOW,
	random: counter(),
	hostLinks: ["lo", "eth0", "ctrnet1"],
	reservedInterfaces: ["ctrnet0"],
	...over,
});
const plan = (
	flags: CreateFlags,
	existing: NetworkDef[] = [],
	routes: string[] = [],
	c: CreateContext = ctx(),
) => planNetworkCreate(flags, existing, routes, c);

function refusal(fn: () => unknown): string {
	try {
		fn();
	} catch (e) {
		return (e as Error).message;
	}
	return "(accepted)";
}

describe("network create", () => {
	test("podman's example: two subnets, a gateway and a range paired in order, labels, options", () => {
		const def = plan({
			name: "tnc-a",
			subnets: ["10.236.1.0/24", "fd36:1::/64"],
			gateways: ["10.236.1.254"],
			ipRanges: ["10.236.1.128/25"],
			labels: ["a=b"],
			options: ["mtu=1400", "isolate=1"],
		});
		expect(def).toEqual({
			name: "tnc-a",
			id: expect.stringMatching(/^[0-9a-f]{64}$/),
			driver: "bridge",
			network_interface: "ctrnet2",
			created: "2026-11-30T05:42:32.29Z",
			subnets: [
				{
					subnet: "10.236.1.0/24",
					gateway: "10.236.1.254",
					// podman's parseRange: network + 1 .. the range's broadcast
					lease_range: { start_ip: "10.236.1.129", end_ip: "10.236.1.255" },
				},
				{ subnet: "fd36:1::/64", gateway: "fd36:1::1" },
			],
			ipv6_enabled: true,
			internal: false,
			dns_enabled: true,
			labels: { a: "b" },
			options: { mtu: "1400", isolate: "true" },
			ipam_options: { driver: "host-local" },
		});
		// what ctrnet writes reads back to the same definition
		expect(parseNetworkDef(formatNetworkDef(def))).toEqual(def);
	});

	test("no subnet: the first free /24 from 10.89.0.0 that no network and no host route uses", () => {
		const first = plan({ name: "tnc-a" });
		expect(first.subnets).toEqual([{ subnet: "10.89.0.0/24", gateway: "10.89.0.1" }]);
		const second = plan({ name: "tnc-b" }, [first], ["10.89.1.0/24", "192.0.2.0/24", "0.0.0.0/0"], {
			...ctx(),
			reservedSubnets: ["10.89.2.0/23"],
		});
		expect(second.subnets[0]?.subnet).toBe("10.89.4.0/24");
	});

	test("--ipv6 means dual stack: the missing family is added, IPv6 as a random fd00::/8 /64", () => {
		const both = plan({ name: "tnc-a", ipv6: true });
		expect(both.subnets.map((s) => s.subnet)).toEqual([
			"10.89.0.0/24",
			// the counter's first 8 bytes (the ID is drawn after), the first one forced to fd
			"fd12:1314:1516:1718::/64",
		]);
		expect(both.subnets[1]?.gateway).toBe("fd12:1314:1516:1718::1");
		expect(both.ipv6_enabled).toBe(true);
		const v6only = plan({ name: "tnc-b", ipv6: true, subnets: ["fd36:9::/64"] });
		expect(v6only.subnets.map((s) => s.subnet)).toEqual(["fd36:9::/64", "10.89.0.0/24"]);
		// an IPv6 subnet alone, without --ipv6, stays alone (and turns ipv6_enabled on)
		const plain6 = plan({ name: "tnc-c", subnets: ["fd36:9::/64"] });
		expect(plain6.subnets.map((s) => s.subnet)).toEqual(["fd36:9::/64"]);
		expect(plain6.ipv6_enabled).toBe(true);
	});

	test("internal: no gateway unless DNS needs one; --disable-dns; ipam none has neither", () => {
		expect(plan({ name: "tnc-a", internal: true }).subnets[0]?.gateway).toBe("10.89.0.1");
		const quiet = plan({ name: "tnc-a", internal: true, disableDns: true });
		expect(quiet.subnets).toEqual([{ subnet: "10.89.0.0/24" }]);
		expect(quiet.dns_enabled).toBe(false);
		const none = plan({ name: "tnc-a", ipamDriver: "none" });
		expect(none).toMatchObject({
			subnets: [],
			dns_enabled: false,
			ipam_options: { driver: "none" },
		});
	});

	test("names: the first free ctrnetN for an unnamed network and for a bridge", () => {
		const existing = [plan({ name: "ctrnet2", interfaceName: "tncbr9" })];
		// ctrnet0 reserved, ctrnet1 a host link, ctrnet2 a network name
		const unnamed = plan({}, existing, [], ctx());
		expect(unnamed.name).toBe("ctrnet3");
		expect(unnamed.network_interface).toBe("ctrnet3");
		const named = plan({ name: "tnc-x", interfaceName: "tncbr1" });
		expect(named.network_interface).toBe("tncbr1");
	});

	test("macvlan: parent from -o parent or --interface-name, mode and mtu only, subnets needed", () => {
		const m = plan({
			name: "tnc-m",
			driver: "macvlan",
			options: ["parent=eth0", "mode=private", "mtu=1500"],
			subnets: ["192.0.2.0/24"],
		});
		expect(m).toMatchObject({
			driver: "macvlan",
			network_interface: "eth0",
			options: { mode: "private", mtu: "1500" },
			ipam_options: { driver: "host-local" },
			subnets: [{ subnet: "192.0.2.0/24", gateway: "192.0.2.1" }],
		});
		// a macvlan subnet is the LAN's: a host route to it is no conflict
		const lan = plan(
			{ name: "tnc-m", driver: "macvlan", interfaceName: "eth0", subnets: ["192.0.2.0/24"] },
			[],
			["192.0.2.0/24"],
		);
		expect(lan.network_interface).toBe("eth0");
		expect(plan({ name: "tnc-m", driver: "macvlan", ipamDriver: "none" }).subnets).toEqual([]);
	});

	test("refusals", () => {
		const a = plan({ name: "tnc-a", subnets: ["10.236.1.0/24"], interfaceName: "tncbr1" });
		const cases: [CreateFlags, string, string[]?][] = [
			[{ name: "tnc-a" }, "network name tnc-a already used: network already exists"],
			[
				{ name: "tnc-x", subnets: ["10.236.1.0/25"] },
				"subnet 10.236.1.0/25 is already used on the host or by another config (network tnc-a)",
			],
			[
				{ name: "tnc-x", subnets: ["10.236.0.0/16"] },
				"subnet 10.236.0.0/16 is already used on the host or by another config (network tnc-a)",
			],
			[
				{ name: "tnc-x", subnets: ["10.236.9.0/24"] },
				"subnet 10.236.9.0/24 is already used on the host or by another config (host route 10.236.8.0/22)",
				["10.236.8.0/22"],
			],
			[
				{ name: "tnc-x", subnets: ["10.236.9.0/24"], gateways: ["10.236.8.1"] },
				"gateway 10.236.8.1 not in subnet 10.236.9.0/24",
			],
			[
				{ name: "tnc-x", subnets: ["10.236.9.0/24"], ipRanges: ["10.236.8.0/26"] },
				"lease range start ip 10.236.8.1 not in subnet 10.236.9.0/24",
			],
			[
				{ name: "tnc-x", subnets: ["10.236.9.0/24", "10.236.9.0/25"] },
				"subnets 10.236.9.0/24 and 10.236.9.0/25 of network tnc-x overlap",
			],
			[{ name: "tnc-x", driver: "ipvlan" }, "unsupported driver ipvlan"],
			[
				{ name: "bad name" },
				"network name bad name invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most 250 characters)",
			],
			[
				{ name: "tnc-x", options: ["isolate=strict"] },
				'invalid isolate option "strict": must be true or false',
			],
			[{ name: "tnc-x", options: ["mtu=-1"] }, "mtu -1 is less than zero"],
			[{ name: "tnc-x", options: ["mtu=abc"] }, 'invalid mtu "abc"'],
			[{ name: "tnc-x", options: ["vlan=5"] }, "unsupported bridge network option vlan"],
			[{ name: "tnc-x", options: ["parent=eth0"] }, "unsupported bridge network option parent"],
			[{ name: "tnc-x", options: ["=x"] }, 'unable to parse options: invalid label format: "=x"'],
			[{ name: "tnc-x", labels: ["=x"] }, 'failed to parse labels: invalid label format: "=x"'],
			[
				{ name: "tnc-x", driver: "macvlan" },
				"macvlan driver needs at least one subnet specified, DHCP is not yet supported with netavark",
			],
			[
				{ name: "tnc-x", driver: "macvlan", options: ["parent=nope"], subnets: ["10.236.9.0/24"] },
				"parent interface nope does not exist",
			],
			[
				{
					name: "tnc-x",
					driver: "macvlan",
					options: ["parent=lo", "mode=x"],
					subnets: ["10.236.9.0/24"],
				},
				'unknown macvlan mode "x"',
			],
			[
				{
					name: "tnc-x",
					driver: "macvlan",
					options: ["parent=lo", "isolate=true"],
					subnets: ["10.236.9.0/24"],
				},
				"unsupported macvlan network option isolate",
			],
			[
				{ name: "tnc-x", ipamDriver: "dhcp" },
				"dhcp ipam driver is not yet supported with netavark",
			],
			[{ name: "tnc-x", ipamDriver: "foo" }, 'unsupported ipam driver "foo"'],
			[
				{ name: "tnc-x", ipamDriver: "none", subnets: ["10.236.9.0/24"] },
				"none ipam driver is set but subnets are given",
			],
			[{ name: "tnc-x", gateways: ["10.236.9.1"] }, "cannot set gateway or range without subnet"],
			[
				{ name: "tnc-x", subnets: ["10.236.9.0/24"], gateways: ["10.236.9.1", "10.236.9.2"] },
				"cannot set more gateways than subnets",
			],
			[
				{
					name: "tnc-x",
					subnets: ["10.236.9.0/24"],
					ipRanges: ["10.236.9.0/26", "10.236.9.64/26"],
				},
				"cannot set more ranges than subnets",
			],
			[{ name: "tnc-x", subnets: ["10.236.9.0/33"] }, "invalid CIDR address: 10.236.9.0/33"],
			[
				{ name: "tnc-x", interfaceName: "tncbr1" },
				"bridge name tncbr1 already in use (network tnc-a)",
			],
			[
				{ name: "tnc-x", interfaceName: "a-very-long-bridge" },
				"bridge name a-very-long-bridge invalid: at most 15 characters",
			],
			[
				{ name: "tnc-x", subnets: 5 } as unknown as CreateFlags,
				"invalid flags: subnets: Invalid input",
			],
		];
		for (const [flags, want, routes] of cases) {
			expect(refusal(() => plan(flags, [a], routes ?? []))).toBe(want);
		}
	});

	test("the pool runs out: a clear error", () => {
		expect(refusal(() => plan({ name: "tnc-x" }, [], ["10.0.0.0/8"]))).toBe(
			"could not find free subnet from subnet pools",
		);
	});
});
