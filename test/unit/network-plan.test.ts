// Network definitions: subnet arithmetic, the free-subnet choice, and every refusal of create.
import { describe, expect, test } from "bun:test";
import { firstFreeSubnet, formatSubnet, overlaps, parseSubnet } from "../../src/ip/cidr";
import { bridgeConflist, type PlanContext, planNetwork } from "../../src/network";

const req = (over: Partial<Parameters<typeof planNetwork>[0]> = {}) => ({
	driver: "bridge",
	internal: false,
	ipv6: false,
	disableDns: false,
	...over,
});

function ctx(over: Partial<PlanContext> = {}): PlanContext {
	return {
		existing: [
			{
				name: "podman",
				plugins: bridgeConflist({
					name: "podman",
					bridge: "cni-podman0",
					ranges: [{ subnet: "10.88.0.0/16", gateway: "10.88.0.1" }],
					gateway: true,
					dnsname: false,
				}).plugins as Record<string, unknown>[],
			},
		],
		host: { networks: [], links: ["lo", "eth0", "ctrnet1"] },
		reserved: [parseSubnet("10.90.0.0/16")],
		reservedBridges: ["ctrnet0"],
		haveDnsname: false,
		...over,
	};
}

describe("subnets", () => {
	test("parsing clears host bits; overlap is containment either way", () => {
		expect(formatSubnet(parseSubnet("10.214.3.77/24"))).toBe("10.214.3.0/24");
		expect(formatSubnet(parseSubnet("fd00:1::5/64"))).toBe("fd00:1::/64");
		expect(overlaps(parseSubnet("10.0.0.0/8"), parseSubnet("10.214.0.0/16"))).toBe(true);
		expect(overlaps(parseSubnet("10.214.1.0/24"), parseSubnet("10.214.2.0/24"))).toBe(false);
		expect(overlaps(parseSubnet("10.0.0.0/8"), parseSubnet("fd00::/8"))).toBe(false);
		for (const bad of ["10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "x/8", "10.0.0.0/8/1"]) {
			expect(() => parseSubnet(bad)).toThrow();
		}
	});

	test("first free /24 skips whatever is taken", () => {
		expect(formatSubnet(firstFreeSubnet([]) as never)).toBe("10.89.0.0/24");
		const taken = ["10.89.0.0/24", "10.89.1.0/25", "10.89.2.0/23"].map(parseSubnet);
		expect(formatSubnet(firstFreeSubnet(taken) as never)).toBe("10.89.4.0/24");
		expect(firstFreeSubnet([parseSubnet("10.0.0.0/8")])).toBeUndefined();
	});
});

describe("planning network create", () => {
	test("no subnet: a free /24 avoiding networks, host routes and the default; podman's shape", () => {
		const plan = planNetwork(
			req({ name: "a" }),
			ctx({ host: { networks: [{ subnet: parseSubnet("10.89.0.0/24") }], links: ["ctrnet1"] } }),
		);
		expect(plan.name).toBe("a");
		const [bridge, portmap, firewall, tuning] = plan.conflist.plugins as Record<string, unknown>[];
		expect(bridge).toEqual({
			type: "bridge",
			bridge: "ctrnet2",
			isGateway: true,
			ipMasq: true,
			hairpinMode: true,
			ipam: {
				type: "host-local",
				routes: [{ dst: "0.0.0.0/0" }],
				ranges: [[{ subnet: "10.89.1.0/24", gateway: "10.89.1.1" }]],
			},
		});
		expect(portmap).toEqual({ type: "portmap", capabilities: { portMappings: true } });
		expect(firewall).toEqual({ type: "firewall", backend: "" });
		expect(tuning).toEqual({ type: "tuning" });
		expect(plan.conflist.cniVersion).toBe("0.4.0");
	});

	test("no name: named after its bridge; dnsname only when installed and wanted", () => {
		expect(planNetwork(req(), ctx()).name).toBe("ctrnet2");
		const types = (c: PlanContext, r = req()) =>
			(planNetwork(r, c).conflist.plugins as { type: string }[]).map((p) => p.type);
		expect(types(ctx({ haveDnsname: true }))).toContain("dnsname");
		expect(types(ctx({ haveDnsname: true }), req({ disableDns: true }))).not.toContain("dnsname");
	});

	test("--subnet/--gateway/--ip-range, --internal, --ipv6 dual stack", () => {
		const p = planNetwork(
			req({
				name: "b",
				subnet: "10.214.9.0/24",
				gateway: "10.214.9.254",
				ipRange: "10.214.9.128/25",
			}),
			ctx(),
		);
		const ipam = (p.conflist.plugins as { ipam: { ranges: unknown } }[])[0]?.ipam;
		expect(ipam?.ranges).toEqual([
			[
				{
					subnet: "10.214.9.0/24",
					rangeStart: "10.214.9.129",
					rangeEnd: "10.214.9.254",
					gateway: "10.214.9.254",
				},
			],
		]);
		const internal = planNetwork(
			req({ name: "c", subnet: "10.214.10.0/24", internal: true }),
			ctx(),
		);
		expect((internal.conflist.plugins as object[])[0]).toMatchObject({
			isGateway: false,
			ipMasq: false,
			ipam: { type: "host-local", ranges: [[{ subnet: "10.214.10.0/24" }]] },
		});
		const v6 = planNetwork(req({ name: "d", subnet: "fd00:214::/64", ipv6: true }), ctx());
		expect((v6.conflist.plugins as { ipam: object }[])[0]?.ipam).toEqual({
			type: "host-local",
			routes: [{ dst: "::/0" }, { dst: "0.0.0.0/0" }],
			ranges: [
				[{ subnet: "fd00:214::/64", gateway: "fd00:214::1" }],
				[{ subnet: "10.89.0.0/24", gateway: "10.89.0.1" }],
			],
		});
	});

	test("macvlan: a live parent, DHCP unless a subnet is given", () => {
		const p = planNetwork(req({ name: "m", driver: "macvlan", macvlanParent: "eth0" }), ctx());
		expect(p.conflist.plugins).toEqual([
			{ type: "macvlan", master: "eth0", ipam: { type: "dhcp" } },
		]);
		expect(() =>
			planNetwork(req({ name: "m", driver: "macvlan", macvlanParent: "nope0" }), ctx()),
		).toThrow('failed to find network interface "nope0"');
	});

	test("the longest name whose <name>.conflist fits in a file name (246 characters) is taken", () => {
		expect(planNetwork(req({ name: "a".repeat(246) }), ctx()).name).toHaveLength(246);
	});

	const refusals: [string, ReturnType<typeof req>, RegExp][] = [
		["duplicate name", req({ name: "podman" }), /the network name podman is already used/],
		["bad name", req({ name: "-x" }), /names must match/],
		["bad name (space)", req({ name: "a b" }), /names must match/],
		// <name>.conflist must fit in a file name
		["name too long", req({ name: "a".repeat(247) }), /at most 246 characters/],
		[
			"overlapping subnet",
			req({ name: "e", subnet: "10.88.5.0/24" }),
			/overlaps 10\.88\.0\.0\/16 of network podman/,
		],
		["same subnet", req({ name: "e", subnet: "10.88.0.0/16" }), /overlaps/],
		["host network", req({ name: "e", subnet: "192.168.7.0/24" }), /in use on the host \(eth0\)/],
		[
			"gateway outside",
			req({ name: "e", subnet: "10.214.1.0/24", gateway: "10.214.2.1" }),
			/is not in subnet/,
		],
		[
			"gateway not an IP",
			req({ name: "e", subnet: "10.214.1.0/24", gateway: "x" }),
			/invalid gateway/,
		],
		["invalid CIDR", req({ name: "e", subnet: "10.214.1.0/40" }), /invalid subnet/],
		["ipv6 without v6 subnet", req({ name: "e", ipv6: true }), /requires an IPv6 --subnet/],
		[
			"ipv6 with v4 subnet",
			req({ name: "e", ipv6: true, subnet: "10.214.1.0/24" }),
			/requires an IPv6/,
		],
		["gateway without subnet", req({ name: "e", gateway: "10.1.1.1" }), /corresponding subnet/],
		[
			"range outside",
			req({ name: "e", subnet: "10.214.1.0/24", ipRange: "10.214.2.0/25" }),
			/does not fall within/,
		],
		["unknown driver", req({ name: "e", driver: "ipvlan" }), /not supported/],
		["macvlan without parent", req({ name: "e", driver: "macvlan" }), /--macvlan-parent/],
	];
	for (const [what, r, msg] of refusals) {
		test(`refuses: ${what}`, () => {
			const c = ctx({
				host: {
					networks: [{ subnet: parseSubnet("192.168.7.0/24"), ifname: "eth0" }],
					links: ["eth0"],
				},
			});
			let err: unknown;
			try {
				planNetwork(r, c);
			} catch (e) {
				err = e;
			}
			expect((err as Error)?.message).toMatch(msg);
			expect((err as { exitCode?: number }).exitCode).toBe(125);
		});
	}
});
