import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors";
import {
	baseCommands,
	type FwNetwork,
	type FwPort,
	networkElements,
	networkTeardownCommands,
	portElements,
	removeBaseCommands,
	setupCommands,
	teardownCommands,
	wipeCommands,
} from "../../src/firewall";
import { commentText } from "../../src/firewall/elements";
import { hostForwardHandles, portMapElements } from "../../src/firewall/listing";
import {
	HOST_FORWARD_COMMENT,
	hostForwardCommands,
	removeOrphanHostForwardCommands,
} from "../../src/firewall/ruleset";

const net: FwNetwork = {
	name: "web",
	bridge: "podman1",
	subnets: ["10.89.0.0/24", "fd00:89::/64"],
	internal: false,
	isolate: false,
};

const port = (containerIP: string, hostPort: number, more: Partial<FwPort> = {}): FwPort => ({
	hostIP: "",
	protocol: "tcp",
	containerIP,
	hostPort,
	containerPort: 80,
	...more,
});

describe("networkElements", () => {
	test("a dual-stack network: bridge, self-pair anchor, subnets to masquerade", () => {
		const c = 'comment "network web"';
		expect(
			networkElements(net).map((e) => `${e.set} ${e.key}${e.data ? ` : ${e.data}` : ""}`),
		).toEqual([
			'bridges "podman1"',
			'within_network "podman1" . "podman1" : jump allow',
			"subnets4 10.89.0.0/24",
			"same_subnet4 10.89.0.0/24 . 10.89.0.0/24",
			"subnets6 fd00:89::/64",
			"same_subnet6 fd00:89::/64 . fd00:89::/64",
		]);
		expect(setupCommands(net, [])).toBe(
			[
				`add element inet ctrnet bridges { "podman1" ${c} }`,
				`add element inet ctrnet within_network { "podman1" . "podman1" ${c} : jump allow }`,
				`add element inet ctrnet subnets4 { 10.89.0.0/24 ${c} }`,
				`add element inet ctrnet same_subnet4 { 10.89.0.0/24 . 10.89.0.0/24 ${c} }`,
				`add element inet ctrnet subnets6 { fd00:89::/64 ${c} }`,
				`add element inet ctrnet same_subnet6 { fd00:89::/64 . fd00:89::/64 ${c} }`,
			].join("\n"),
		);
	});

	test("host bits are cleared; internal networks masquerade nothing; isolation is a set", () => {
		const keys = (n: FwNetwork) => networkElements(n).map((e) => `${e.set} ${e.key}`);
		expect(keys({ ...net, subnets: ["10.89.0.7/24"] })).toContain("subnets4 10.89.0.0/24");
		expect(keys({ ...net, internal: true, isolate: true })).toEqual([
			'bridges "podman1"',
			'within_network "podman1" . "podman1"',
			'internal_bridges "podman1"',
			'isolated_bridges "podman1"',
		]);
	});

	test("names that could break out of an nft string are refused", () => {
		for (const bridge of ['a"b', "a b", "a\\b", "", "sixteen-chars-xx", "a/b", "a:b"]) {
			expect(() => networkElements({ ...net, bridge })).toThrow(UsageError);
		}
		expect(() => networkElements({ ...net, subnets: ["10.89.0.0"] })).toThrow(UsageError);
		expect(commentText('net "x"\\\n')).toBe("net _x___");
		expect(commentText("x".repeat(300))).toHaveLength(100);
	});
});

describe("portElements", () => {
	const show = (ports: FwPort[], n = net) =>
		portElements(n, ports).map((e) => `${e.set} ${e.key} : ${e.data}`);

	test("every address, one address, IPv4 and IPv6, all protocols", () => {
		expect(
			show([
				port("10.89.0.2", 8080),
				port("fd00:89::2", 8080),
				port("10.89.0.2", 5353, { protocol: "udp", containerPort: 53 }),
				port("10.89.0.2", 9000, { protocol: "sctp" }),
				port("10.89.0.2", 8081, { hostIP: "127.0.0.1" }),
				port("10.89.0.2", 8082, { hostIP: "0.0.0.0" }),
				port("FD00:89:0::2", 8083, { hostIP: "2001:DB8::0:1" }),
				port("fd00:89::2", 8084, { hostIP: "::" }),
			]),
		).toEqual([
			"ports4_any tcp . 8080 : 10.89.0.2 . 80",
			"ports6_any tcp . 8080 : fd00:89::2 . 80",
			"ports4_any udp . 5353 : 10.89.0.2 . 53",
			"ports4_any sctp . 9000 : 10.89.0.2 . 80",
			"ports4 127.0.0.1 . tcp . 8081 : 10.89.0.2 . 80",
			"ports4_any tcp . 8082 : 10.89.0.2 . 80",
			"ports6 2001:db8::1 . tcp . 8083 : fd00:89::2 . 80",
			"ports6_any tcp . 8084 : fd00:89::2 . 80",
		]);
	});

	test("a range is one element per port; repeats collapse; an internal network publishes nothing", () => {
		const range = [0, 1, 2].map((i) => port("10.89.0.2", 9000 + i, { containerPort: 80 + i }));
		expect(show([...range, ...range])).toEqual([
			"ports4_any tcp . 9000 : 10.89.0.2 . 80",
			"ports4_any tcp . 9001 : 10.89.0.2 . 81",
			"ports4_any tcp . 9002 : 10.89.0.2 . 82",
		]);
		expect(show(range, { ...net, internal: true })).toEqual([]);
	});

	test("what the kernel cannot do, or that contradicts itself, is a UsageError", () => {
		const bad: FwPort[][] = [
			[port("fd00:89::2", 8080, { hostIP: "::1" })],
			[port("fd00:89::2", 8080, { hostIP: "10.0.0.1" })],
			[port("10.89.0.2", 8080, { hostIP: "::" })],
			[port("fd00:89::2", 8080, { hostIP: "0.0.0.0" })],
			[port("10.89.0.2", 8080), port("10.89.0.3", 8080)],
			[port("10.89.0.2", 0)],
			[port("10.89.0.2", 8080, { containerPort: 70000 })],
			[port("not-an-ip", 8080)],
			[port("10.89.0.2", 8080, { hostIP: "localhost" })],
			[port("10.89.0.2", 8080, { protocol: "icmp" as "tcp" })],
		];
		for (const ports of bad) expect(() => portElements(net, ports)).toThrow(UsageError);
		expect(() => portElements(net, bad[0] as FwPort[])).toThrow(/userspace forwarder/);
	});

	test("elements are labelled with the container when it is given", () => {
		expect(
			setupCommands({ ...net, subnets: [] }, [port("10.89.0.2", 8080)], { container: "c1" }),
		).toContain(
			'add element inet ctrnet ports4_any { tcp . 8080 comment "c1 on network web" : 10.89.0.2 . 80 }',
		);
	});
});

describe("teardown commands", () => {
	test("each set's elements are added then deleted, in one batch", () => {
		const ports = [port("10.89.0.2", 8080), port("10.89.0.2", 8081)];
		expect(teardownCommands(net, ports, { lastOnNetwork: false })).toBe(
			[
				"add element inet ctrnet ports4_any { " +
					'tcp . 8080 comment "network web" : 10.89.0.2 . 80, ' +
					'tcp . 8081 comment "network web" : 10.89.0.2 . 80 }',
				"delete element inet ctrnet ports4_any { tcp . 8080, tcp . 8081 }",
			].join("\n"),
		);
	});

	test("the last container also takes the network's elements", () => {
		const last = teardownCommands(net, [port("10.89.0.2", 8080)], { lastOnNetwork: true });
		expect(last).toContain('delete element inet ctrnet within_network { "podman1" . "podman1" }');
		expect(last).toContain("delete element inet ctrnet subnets6 { fd00:89::/64 }");
		expect(last.split("\n").filter((l) => l.startsWith("delete"))).toHaveLength(7);
		expect(networkTeardownCommands(net)).toBe(teardownCommands(net, [], { lastOnNetwork: true }));
		expect(teardownCommands(net, [], { lastOnNetwork: false })).toBe("");
	});
});

describe("base and host commands", () => {
	const rule = `meta mark & 0x10000000 == 0x10000000 counter accept comment "${HOST_FORWARD_COMMENT}"`;

	test("the base flushes and rewrites our table's rules and places our FORWARD rule", () => {
		const base = baseCommands([
			{ family: "ip", handles: [] },
			{ family: "ip6", handles: [7, 9] },
		]).split("\n");
		expect(base[0]).toStartWith("add table inet ctrnet { comment ");
		expect(base[1]).toBe("flush table inet ctrnet");
		expect(base[2]).toBe("table inet ctrnet {");
		expect(base.slice(-2)).toEqual([
			`insert rule ip filter FORWARD ${rule}`,
			`replace rule ip6 filter FORWARD handle 7 ${rule}`,
		]);
		expect(base.filter((l) => l.includes("hook"))).toHaveLength(5);
		expect(baseCommands([]).split("\n").at(-1)).toBe("}");
		expect(hostForwardCommands([])).toBe("");
	});

	test("removal is guarded by the `allow` chain; orphans by `create table`; wipe by `add table`", () => {
		const host = [{ family: "ip" as const, handles: [4, 5] }];
		expect(removeBaseCommands(host).split("\n")).toEqual([
			"delete chain inet ctrnet forward",
			"delete chain inet ctrnet allow",
			"delete table inet ctrnet",
			"delete rule ip filter FORWARD handle 4",
			"delete rule ip filter FORWARD handle 5",
		]);
		expect(removeOrphanHostForwardCommands(host).split("\n").slice(0, 2)).toEqual([
			"create table inet ctrnet",
			"delete table inet ctrnet",
		]);
		expect(wipeCommands([])).toBe("add table inet ctrnet\ndelete table inet ctrnet");
	});
});

describe("listings", () => {
	test("our rules are found in an iptables FORWARD chain by their comment", () => {
		const json = JSON.stringify({
			nftables: [
				{ metainfo: { version: "1.0.6", json_schema_version: 1 } },
				{ chain: { family: "ip", table: "filter", name: "FORWARD", handle: 1, policy: "drop" } },
				{ rule: { family: "ip", chain: "FORWARD", handle: 2, expr: [] } },
				{
					rule: {
						family: "ip",
						chain: "FORWARD",
						handle: 5,
						comment: HOST_FORWARD_COMMENT,
						expr: [],
					},
				},
				{ rule: { family: "ip", chain: "FORWARD", handle: 6, comment: "someone else", expr: [] } },
			],
		});
		expect(hostForwardHandles(json)).toEqual([5]);
		expect(hostForwardHandles("")).toEqual([]);
	});

	test("port map elements read back as elements.ts writes them", () => {
		const json = JSON.stringify({
			nftables: [
				{
					map: {
						name: "within_network",
						elem: [[{ concat: ["br", "br"] }, { jump: { target: "allow" } }]],
					},
				},
				{
					map: {
						name: "ports4",
						elem: [
							[
								{ elem: { val: { concat: ["127.0.0.1", "tcp", 8081] }, comment: "c1" } },
								{ concat: ["10.89.0.2", 80] },
							],
						],
					},
				},
				{
					map: {
						name: "ports6_any",
						elem: [[{ concat: ["udp", 53] }, { concat: ["fd00:89:0::2", 5353] }]],
					},
				},
				{ map: { name: "ports4_any" } },
			],
		});
		const got = portMapElements(json);
		expect([...got.keys()]).toEqual(["ports4 127.0.0.1 . tcp . 8081", "ports6_any udp . 53"]);
		expect(got.get("ports6_any udp . 53")?.data).toBe("fd00:89::2 . 5353");
		const mine = portElements(net, [port("10.89.0.2", 8081, { hostIP: "127.0.0.1" })])[0];
		expect(got.get(`${mine?.set} ${mine?.key}`)?.data).toBe(mine?.data);
	});
});
