// netavark's iptables layout as data, and the decisions the iptables driver takes on it: what a
// setup adds (and where), what a teardown removes, with nf_tables' own semantics played by a small
// in-memory ruleset (handles, append, insert first/before/after). The kernel side is covered by
// test/integration/iptables-expr.test.ts and the front end's tests.
import { describe, expect, test } from "bun:test";
import { currentOf, setupChanges, teardownChanges } from "../../src/firewall/iptables/driver";
import {
	type LayoutChain,
	networkChains,
	networkHash,
	portChains,
	portRuns,
	subnetsOf,
} from "../../src/firewall/iptables/layout";
import type { FwNetwork, FwPort } from "../../src/firewall/types";
import { encodeAttrs } from "../../src/netlink/codec";
import type { NftChange, NftRule } from "../../src/netlink/nftables";

/** A ruleset that applies changes as nf_tables does; rules keep the layout text they came from. */
class Ruleset {
	chains = new Set<string>();
	rules = new Map<string, (NftRule & { text: string })[]>();
	private handle = 100n;
	private texts = new Map<string, string>();

	constructor(readonly layout: LayoutChain[]) {
		for (const c of layout)
			for (const r of c.rules) this.texts.set(JSON.stringify(encodeAttrs(r.exprs)), r.text);
	}

	seed(table: string, chain: string, text: string) {
		this.chains.add(`${table} ${chain}`);
		const list = this.rules.get(`${table} ${chain}`) ?? [];
		list.push({ table, chain, handle: this.handle++, expressions: new Uint8Array([0]), text });
		this.rules.set(`${table} ${chain}`, list);
	}

	now() {
		return currentOf(1, this.chains, [...this.rules.values()].flat());
	}

	apply(changes: NftChange[]) {
		for (const c of changes) {
			const k = `${c.table} ${"chain" in c ? c.chain : ""}`;
			if (c.kind === "table") continue;
			if (c.kind === "chain") this.chains.add(k);
			if (c.kind === "delchain") {
				expect(this.rules.get(k) ?? []).toEqual([]);
				this.chains.delete(k);
			}
			if (c.kind === "delrule") {
				const list = this.rules.get(k) ?? [];
				expect(list.some((r) => r.handle === c.handle)).toBe(true);
				this.rules.set(
					k,
					list.filter((r) => r.handle !== c.handle),
				);
			}
			if (c.kind === "rule") {
				expect(this.chains.has(k)).toBe(true);
				const expressions = encodeAttrs(c.expressions);
				const text = this.texts.get(JSON.stringify(expressions)) ?? "?";
				const r = { table: c.table, chain: c.chain, handle: this.handle++, expressions, text };
				const list = this.rules.get(k) ?? [];
				const at = c.at;
				if (at === "first") list.unshift(r);
				else if (at && "after" in at)
					list.splice(list.findIndex((x) => x.handle === at.after) + 1, 0, r);
				else if (at && "before" in at)
					list.splice(
						list.findIndex((x) => x.handle === at.before),
						0,
						r,
					);
				else list.push(r);
				this.rules.set(k, list);
			}
		}
	}

	text(table: string, chain: string): string[] {
		return (this.rules.get(`${table} ${chain}`) ?? []).map((r) => r.text);
	}
}

const NET: FwNetwork = {
	name: "podman",
	bridge: "podman0",
	subnets: ["10.88.0.7/16"],
	internal: false,
	isolate: false,
};

const port = (containerIP: string, hostPort = 8080, hostIP = ""): FwPort => ({
	hostIP,
	hostPort,
	containerPort: 80,
	protocol: "tcp",
	containerIP,
});

const layoutOf = (net: FwNetwork, ports: FwPort[], id: string) => {
	const [subnet = ""] = subnetsOf(net, 4);
	return [
		...networkChains(4, subnet, net),
		...portChains(4, { containerId: id, network: net, subnet, ports }),
	];
};

describe("netavark's iptables layout", () => {
	test("chain names hash the network's name as netavark does", () => {
		expect(networkHash("podman")).toBe("1D8721804F16F");
		expect(subnetsOf(NET, 4)).toEqual(["10.88.0.0/16"]);
		expect(subnetsOf(NET, 6)).toEqual([]);
	});

	test("a simple bridge: netavark's rules, in netavark's order (its suite's text)", () => {
		const chains = networkChains(4, "10.88.0.0/16", NET);
		const text = (name: string) => chains.find((c) => c.name === name)?.rules.map((r) => r.text);
		expect(text("NETAVARK-1D8721804F16F")).toEqual([
			"-d 10.88.0.0/16 -j ACCEPT",
			"! -d 224.0.0.0/4 -j MASQUERADE",
		]);
		expect(text("POSTROUTING")).toEqual(["-s 10.88.0.0/16 -j NETAVARK-1D8721804F16F"]);
		expect(text("FORWARD")).toEqual([
			'-m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD',
		]);
		expect(text("NETAVARK_FORWARD")).toEqual([
			"-d 10.88.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
			"-s 10.88.0.0/16 -j ACCEPT",
		]);
	});

	test("a port on one host address, and the DNS redirect of a network on another port", () => {
		const net = { ...NET, dnsRedirect: { gateways: ["10.88.0.1", "fd00::1"], port: 5353 } };
		const chains = portChains(4, {
			containerId: "abc",
			network: net,
			subnet: "10.88.0.0/16",
			ports: [port("10.88.0.2", 8080, "127.0.0.1")],
		});
		const text = (name: string) => chains.find((c) => c.name === name)?.rules.map((r) => r.text);
		expect(text("NETAVARK-HOSTPORT-DNAT")).toEqual([
			"-d 10.88.0.1/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.88.0.1:5353",
			'-p tcp -m tcp --dport 8080 -m comment --comment "dnat name: podman id: abc" -j NETAVARK-DN-1D8721804F16F',
		]);
		expect(text("NETAVARK-DN-1D8721804F16F")).toEqual([
			"-s 10.88.0.0/16 -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j NETAVARK-HOSTPORT-SETMARK",
			"-s 127.0.0.1/32 -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j NETAVARK-HOSTPORT-SETMARK",
			"-d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80",
		]);
		expect(text("PREROUTING")).toEqual(["-m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT"]);
		expect(() =>
			portChains(4, {
				containerId: "abc",
				network: net,
				subnet: "10.88.0.0/16",
				ports: [{ ...port("10.88.0.2"), protocol: "sctp" }],
			}),
		).toThrow("the iptables firewall driver forwards tcp and udp only");
	});
});

describe("port ranges", () => {
	test("ports spelt out one by one become netavark's range rules again", () => {
		const ports = [
			{ ...port("10.88.0.2", 8080), mapping: 0 },
			{ ...port("10.88.0.2", 8081), containerPort: 81, mapping: 0 },
			{ ...port("10.88.0.2", 9000), mapping: 1 },
		];
		expect(portRuns(ports).map((r) => [r.hostPort, r.containerPort, r.count])).toEqual([
			[8080, 80, 2],
			[9000, 80, 1],
		]);
		// Two of podman's mappings that happen to be consecutive stay two rules, as netavark's.
		const two = [
			{ ...port("10.88.0.2", 7000), mapping: 0 },
			{ ...port("10.88.0.2", 7001), containerPort: 81, mapping: 1 },
		];
		expect(portRuns(two).map((r) => r.count)).toEqual([1, 1]);
		const chains = portChains(4, {
			containerId: "abc",
			network: NET,
			subnet: "10.88.0.0/16",
			ports,
		});
		const text = (name: string) => chains.find((c) => c.name === name)?.rules.map((r) => r.text);
		expect(text("NETAVARK-DN-1D8721804F16F")).toEqual([
			"-s 10.88.0.0/16 -p tcp -m tcp --dport 8080:8081 -j NETAVARK-HOSTPORT-SETMARK",
			"-s 127.0.0.1/32 -p tcp -m tcp --dport 8080:8081 -j NETAVARK-HOSTPORT-SETMARK",
			"-p tcp -m tcp --dport 8080:8081 -j DNAT --to-destination 10.88.0.2:80-81/8080",
			"-s 10.88.0.0/16 -p tcp -m tcp --dport 9000 -j NETAVARK-HOSTPORT-SETMARK",
			"-s 127.0.0.1/32 -p tcp -m tcp --dport 9000 -j NETAVARK-HOSTPORT-SETMARK",
			"-p tcp -m tcp --dport 9000 -j DNAT --to-destination 10.88.0.2:80",
		]);
	});
});

describe("the iptables driver's decisions", () => {
	test("a network with two subnets of a family: rules for each, its chain removed once", () => {
		const net = { ...NET, subnets: ["10.88.0.0/16", "10.89.0.0/24"] };
		const layout = subnetsOf(net, 4).flatMap((s) => networkChains(4, s, net));
		const rs = new Ruleset(layout);
		rs.apply(setupChanges(layout, rs.now()));
		expect(rs.text("nat", "POSTROUTING")).toEqual([
			"-s 10.88.0.0/16 -j NETAVARK-1D8721804F16F",
			"-s 10.89.0.0/24 -j NETAVARK-1D8721804F16F",
		]);
		expect(rs.text("filter", "FORWARD")).toHaveLength(1);
		expect(rs.text("filter", "NETAVARK_FORWARD")).toHaveLength(4);
		const changes = teardownChanges(layout, rs.now(), true);
		expect(changes.filter((c) => c.kind === "delchain")).toHaveLength(1);
		rs.apply(changes);
		expect(rs.chains.has("nat NETAVARK-1D8721804F16F")).toBe(false);
		expect(rs.text("filter", "NETAVARK_FORWARD")).toEqual([]);
	});

	test("setup makes chains before rules, is idempotent, and puts isolation first in FORWARD", () => {
		const net = { ...NET, isolate: true };
		const layout = layoutOf(net, [port("10.88.0.2")], "c1");
		const rs = new Ruleset(layout);
		rs.seed("filter", "FORWARD", "-j DOCKER-USER"); // someone else's rule is there already
		rs.apply(setupChanges(layout, rs.now()));
		expect(rs.text("filter", "FORWARD")).toEqual([
			"-j NETAVARK_ISOLATION_1",
			'-m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD',
			"-j DOCKER-USER",
		]);
		expect(rs.text("nat", "POSTROUTING")).toEqual([
			"-j NETAVARK-HOSTPORT-MASQ",
			"-s 10.88.0.0/16 -j NETAVARK-1D8721804F16F",
		]);
		expect(rs.text("filter", "NETAVARK_ISOLATION_2")).toEqual(["-o podman0 -j DROP"]);
		expect(setupChanges(layout, rs.now())).toEqual([]);
	});

	test("two isolated networks: FORWARD's jump to the isolation chain stays until the last goes", () => {
		const a = networkChains(4, "10.88.0.0/16", { ...NET, isolate: true });
		const b = networkChains(4, "10.89.0.0/24", { name: "other", bridge: "other0", isolate: true });
		const rs = new Ruleset([...a, ...b]);
		rs.apply(setupChanges(a, rs.now()));
		rs.apply(setupChanges(b, rs.now()));
		expect(rs.text("filter", "NETAVARK_ISOLATION_1")).toEqual([
			"-i other0 ! -o other0 -j NETAVARK_ISOLATION_2",
			"-i podman0 ! -o podman0 -j NETAVARK_ISOLATION_2",
		]);
		rs.apply(teardownChanges(a, rs.now(), true));
		expect(rs.text("filter", "FORWARD")[0]).toBe("-j NETAVARK_ISOLATION_1");
		expect(rs.text("filter", "NETAVARK_ISOLATION_2")).toEqual(["-o other0 -j DROP"]);
		rs.apply(teardownChanges(b, rs.now(), true));
		expect(rs.text("filter", "FORWARD")).toEqual([
			'-m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD',
		]);
		expect(rs.text("filter", "NETAVARK_ISOLATION_1")).toEqual([]);
	});

	test("teardown: a container's rules go; the network's with its last container; the base never", () => {
		const one = layoutOf(NET, [port("10.88.0.2", 8080)], "c1");
		const two = layoutOf(NET, [port("10.88.0.3", 8081)], "c2");
		const rs = new Ruleset([...one, ...two]);
		rs.apply(setupChanges(one, rs.now()));
		rs.apply(setupChanges(two, rs.now()));
		const dn = "NETAVARK-DN-1D8721804F16F";
		expect(rs.text("nat", dn)).toHaveLength(6);
		rs.apply(teardownChanges(one, rs.now(), false));
		expect(rs.text("nat", dn)).toEqual([
			"-s 10.88.0.0/16 -p tcp -m tcp --dport 8081 -j NETAVARK-HOSTPORT-SETMARK",
			"-s 127.0.0.1/32 -p tcp -m tcp --dport 8081 -j NETAVARK-HOSTPORT-SETMARK",
			"-p tcp -m tcp --dport 8081 -j DNAT --to-destination 10.88.0.3:80",
		]);
		expect(rs.text("nat", "NETAVARK-1D8721804F16F")).toHaveLength(2);
		rs.apply(teardownChanges(two, rs.now(), false));
		rs.apply(teardownChanges(layoutOf(NET, [], "c2"), rs.now(), true));
		expect([...rs.chains].sort()).toEqual([
			"filter FORWARD",
			"filter NETAVARK_FORWARD",
			"nat NETAVARK-HOSTPORT-DNAT",
			"nat NETAVARK-HOSTPORT-MASQ",
			"nat NETAVARK-HOSTPORT-SETMARK",
			"nat OUTPUT",
			"nat POSTROUTING",
			"nat PREROUTING",
		]);
		expect(rs.text("nat", "POSTROUTING")).toEqual(["-j NETAVARK-HOSTPORT-MASQ"]);
		expect(rs.text("filter", "NETAVARK_FORWARD")).toEqual([]);
		expect(teardownChanges(layoutOf(NET, [], "c2"), rs.now(), true)).toEqual([]);
	});

	test("two containers on one host port share its mark rules until the last of them goes", () => {
		const first = layoutOf(NET, [port("10.88.0.2", 8080, "127.0.0.1")], "c1");
		const second = layoutOf(NET, [port("10.88.0.3", 8080, "127.0.0.1")], "c2");
		const rs = new Ruleset([...first, ...second]);
		rs.apply(setupChanges(first, rs.now()));
		rs.apply(setupChanges(second, rs.now()));
		const dn = "NETAVARK-DN-1D8721804F16F";
		const marks = (rs: Ruleset) => rs.text("nat", dn).filter((t) => t.endsWith("SETMARK"));
		expect(marks(rs)).toHaveLength(2); // added once: the second found them there
		rs.apply(teardownChanges(second, rs.now(), false));
		expect(marks(rs)).toHaveLength(2); // still serving the first container's DNAT
		expect(rs.text("nat", dn).filter((t) => t.includes("DNAT"))).toEqual([
			"-d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80",
		]);
		rs.apply(teardownChanges(first, rs.now(), false));
		expect(rs.text("nat", dn)).toEqual([]);
	});
});
