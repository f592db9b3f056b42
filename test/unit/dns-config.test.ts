// aardvark-dns 1.4's config format as netavark 1.4 writes it (format strings of src/dns/aardvark.rs,
// the lines netavark's own bats suite expects) and aardvark parses it; the change planner; the DNS
// port; what containers are told; aardvark's argv and how a running one is recognised.
import { describe, expect, test } from "bun:test";
import { nextNetworkConfig, parseDnsChanges } from "../../src/dns/change";
import {
	containerEntry,
	dnsNames,
	formatNetworkConfig,
	type NetworkConfig,
	parseNetworkConfig,
	withEntry,
	withoutEntry,
} from "../../src/dns/config";
import { dnsPortFromEnv } from "../../src/dns/port";
import { networkDnsStatus } from "../../src/dns/resolv";
import { aardvarkCommand, configArgOf } from "../../src/helpers/aardvark";

const ID1 = "94d74e97e39a6139540bdd791f913f2a4961b761390d43a01ace9ac17d122b6a";
const ID2 = "252389c96e502868f73449e822f2889bb9efd907f798307fe6de5ad0b0b1ce48";

describe("network file format", () => {
	test("netavark's dual-stack file (bats: dual stack dns with alt port) round-trips", () => {
		const text = `10.89.3.1,fd10:88:a::1\n${ID1} 10.89.3.2 fd10:88:a::2 somename\n`;
		const c = parseNetworkConfig(text);
		expect(c).toEqual({
			gateways: ["10.89.3.1", "fd10:88:a::1"],
			dnsServers: [],
			entries: [
				{
					id: ID1,
					ipv4: ["10.89.3.2"],
					ipv6: ["fd10:88:a::2"],
					names: ["somename"],
					dnsServers: [],
				},
			],
		});
		expect(formatNetworkConfig(c)).toBe(text);
	});

	test("no IPv6 is an empty field (two spaces), no IPv4 too; several IPs are comma-joined", () => {
		const c: NetworkConfig = {
			gateways: ["10.0.0.1", "10.0.1.1", "fdfd::1"],
			dnsServers: [],
			entries: [
				{
					id: ID1,
					ipv4: ["10.0.0.2"],
					ipv6: [],
					names: ["nvp-custom", "94d74e97e39a"],
					dnsServers: [],
				},
				{ id: ID2, ipv4: [], ipv6: ["fdfd::3"], names: ["b"], dnsServers: [] },
				{
					id: "c3",
					ipv4: ["10.0.0.4", "10.0.1.4"],
					ipv6: ["fdfd::4"],
					names: ["c"],
					dnsServers: [],
				},
			],
		};
		const text = formatNetworkConfig(c);
		expect(text).toBe(
			"10.0.0.1,10.0.1.1,fdfd::1\n" +
				`${ID1} 10.0.0.2  nvp-custom,94d74e97e39a\n` +
				`${ID2}  fdfd::3 b\n` +
				"c3 10.0.0.4,10.0.1.4 fdfd::4 c\n",
		);
		expect(parseNetworkConfig(text)).toEqual(c);
	});

	test("network and container DNS servers: a second field on the header, a fifth on a line", () => {
		const text = "10.88.0.1 127.0.0.1,::2\nabc 10.88.0.5  HelloWorld 3.3.3.3,1.1.1.1,::1\n";
		const c = parseNetworkConfig(text);
		expect(c.dnsServers).toEqual(["127.0.0.1", "::2"]);
		expect(c.entries[0]?.dnsServers).toEqual(["3.3.3.3", "1.1.1.1", "::1"]);
		expect(c.entries[0]?.names).toEqual(["HelloWorld"]);
		expect(formatNetworkConfig(c)).toBe(text);
	});

	test("several lines of one container are kept (aardvark merges them); empty lines skipped", () => {
		const text = `10.89.0.1\n\n${ID1} 10.89.0.2  test1\n${ID1}  fdfd::2 test1\n`;
		expect(parseNetworkConfig(text).entries).toHaveLength(2);
	});

	test("what aardvark refuses is refused (it would stop serving every network)", () => {
		const bad: [string, RegExp][] = [
			["", /no bind addresses/],
			["\n\n", /no bind addresses/],
			["10.0.0.1,\n", /invalid IP address ""/],
			["10.0.0.1 \n", /invalid IP address ""/],
			["gateway\n", /invalid IP/],
			["10.0.0.1\nid 10.0.0.2 name\n", /too few fields/],
			["10.0.0.1\nid fd00::2  name\n", /invalid IPv4/],
			["10.0.0.1\nid  10.0.0.2 name\n", /invalid IPv6/],
			["10.0.0.1\nid 010.0.0.2  name\n", /invalid IPv4/],
			["10.0.0.1\nid  fe80::1%eth0 name\n", /invalid IPv6/],
			["10.0.0.1\nid 10.0.0.2  name nameserver\n", /invalid IP/],
		];
		for (const [text, message] of bad) expect(() => parseNetworkConfig(text)).toThrow(message);
	});

	test("withEntry replaces every line of the container and appends; withoutEntry matches the whole ID", () => {
		const base = parseNetworkConfig(
			`10.89.0.1\n${ID1} 10.89.0.2  a\n${ID1}  fd::2 a\n${ID2} 10.89.0.3  b\n`,
		);
		const again = withEntry(base, {
			id: ID1,
			ipv4: ["10.89.0.9"],
			ipv6: [],
			names: ["a"],
			dnsServers: [],
		});
		expect(formatNetworkConfig(again)).toBe(
			`10.89.0.1\n${ID2} 10.89.0.3  b\n${ID1} 10.89.0.9  a\n`,
		);
		// netavark 1.4 deletes lines that merely contain the ID; a prefix must not match here.
		expect(withoutEntry(base, ID1.slice(0, 12)).entries).toHaveLength(3);
		expect(formatNetworkConfig(withoutEntry(base, ID1))).toBe(`10.89.0.1\n${ID2} 10.89.0.3  b\n`);
	});

	test("containerEntry: name then aliases (podman's order), canonical IPs, bad tokens refused", () => {
		expect(
			containerEntry({
				containerId: ID2,
				containerName: "nvp-custom2",
				aliases: ["web2", "252389c96e50", "web2"],
				ipv4: ["10.89.0.3"],
				ipv6: ["FD10:0:0:0::3"],
			}),
		).toEqual({
			id: ID2,
			ipv4: ["10.89.0.3"],
			ipv6: ["fd10::3"],
			names: ["nvp-custom2", "web2", "252389c96e50"],
			dnsServers: [],
		});
		const ok = { containerId: "c", containerName: "n", aliases: [], ipv4: ["10.0.0.2"], ipv6: [] };
		expect(() => containerEntry({ ...ok, containerName: "a b" })).toThrow(/space or comma/);
		expect(() => containerEntry({ ...ok, aliases: ["x,y"] })).toThrow(/space or comma/);
		expect(() => containerEntry({ ...ok, containerId: "" })).toThrow(/container ID/);
		expect(() => containerEntry({ ...ok, containerName: "", aliases: [] })).toThrow(
			/name or an alias/,
		);
		expect(() => containerEntry({ ...ok, ipv4: ["fd00::2"] })).toThrow(/IPv4/);
		expect(() => containerEntry({ ...ok, ipv6: ["10.0.0.3"] })).toThrow(/IPv6/);
	});
});

describe("changes", () => {
	const net = { name: "nvprobe-net", gateways: ["10.89.0.1"] };
	const add1 = {
		action: "add" as const,
		network: net,
		containerId: ID1,
		containerName: "nvp-custom",
		aliases: ["94d74e97e39a"],
		ipv4: ["10.89.0.2"],
	};
	const add2 = {
		action: "add" as const,
		network: net,
		containerId: ID2,
		containerName: "nvp-custom2",
		aliases: ["web2", "252389c96e50"],
		ipv4: ["10.89.0.3"],
	};

	test("the captured podman runs (samples 03, 04) give netavark's file; teardowns (09, 10) empty it", () => {
		let c = nextNetworkConfig(null, parseDnsChanges([add1]));
		expect(c && formatNetworkConfig(c)).toBe(
			`10.89.0.1\n${ID1} 10.89.0.2  nvp-custom,94d74e97e39a\n`,
		);
		c = nextNetworkConfig(c, parseDnsChanges(add2));
		expect(c && formatNetworkConfig(c)).toBe(
			`10.89.0.1\n${ID1} 10.89.0.2  nvp-custom,94d74e97e39a\n` +
				`${ID2} 10.89.0.3  nvp-custom2,web2,252389c96e50\n`,
		);
		c = nextNetworkConfig(c, parseDnsChanges({ action: "remove", network: net, containerId: ID2 }));
		expect(c?.entries.map((e) => e.id)).toEqual([ID1]);
		c = nextNetworkConfig(c, parseDnsChanges({ action: "remove", network: net, containerId: ID1 }));
		expect(c).toBeNull();
	});

	test("a repeated add does not duplicate; the header follows the network as it is now", () => {
		let c = nextNetworkConfig(null, parseDnsChanges([add1, add1]));
		expect(c?.entries).toHaveLength(1);
		c = nextNetworkConfig(
			c,
			parseDnsChanges({
				...add2,
				network: { ...net, gateways: ["10.89.0.1", "fd10::1"], dnsServers: ["1.1.1.1"] },
			}),
		);
		expect(c?.gateways).toEqual(["10.89.0.1", "fd10::1"]);
		expect(c?.dnsServers).toEqual(["1.1.1.1"]);
		// dnsServers absent keeps the file's; given empty clears them.
		expect(nextNetworkConfig(c, parseDnsChanges(add1))?.dnsServers).toEqual(["1.1.1.1"]);
		const cleared = nextNetworkConfig(
			c,
			parseDnsChanges({ ...add1, network: { ...net, dnsServers: [] } }),
		);
		expect(cleared?.dnsServers).toEqual([]);
	});

	test("a network without a gateway gets no file; removing from nothing is nothing", () => {
		expect(
			nextNetworkConfig(null, parseDnsChanges({ ...add1, network: { name: "n", gateways: [] } })),
		).toBeNull();
		expect(
			nextNetworkConfig(
				null,
				parseDnsChanges({ action: "remove", network: net, containerId: ID1 }),
			),
		).toBeNull();
	});

	test("malformed changes are refused before anything is done", () => {
		expect(() => parseDnsChanges({ action: "rename" })).toThrow(/invalid DNS change/);
		expect(() => parseDnsChanges({ ...add1, ipv4: "10.0.0.2" })).toThrow(/ipv4/);
		expect(() =>
			nextNetworkConfig(null, parseDnsChanges({ ...add1, ipv4: ["10.0.0.300"] })),
		).toThrow(/invalid IPv4/);
	});
});

describe("NETAVARK_DNS_PORT", () => {
	test("default 53; a u16 as Rust parses it; netavark's error text", () => {
		expect(dnsPortFromEnv({})).toBe(53);
		expect(dnsPortFromEnv({ NETAVARK_DNS_PORT: "5353" })).toBe(5353);
		expect(dnsPortFromEnv({ NETAVARK_DNS_PORT: "+54" })).toBe(54);
		expect(() => dnsPortFromEnv({ NETAVARK_DNS_PORT: "" })).toThrow(
			"Invalid NETAVARK_DNS_PORT : cannot parse integer from empty string",
		);
		expect(() => dnsPortFromEnv({ NETAVARK_DNS_PORT: "x53" })).toThrow(
			"Invalid NETAVARK_DNS_PORT x53: invalid digit found in string",
		);
		expect(() => dnsPortFromEnv({ NETAVARK_DNS_PORT: "65536" })).toThrow(
			"Invalid NETAVARK_DNS_PORT 65536: number too large to fit in target type",
		);
		expect(() => dnsPortFromEnv({ NETAVARK_DNS_PORT: "0" })).toThrow(/fixed port/);
	});
});

describe("what the container is told", () => {
	test("netavark's StatusBlock fields (sample 03, dual stack 11) and without DNS", () => {
		expect(networkDnsStatus({ dnsEnabled: true, gateways: ["10.89.0.1"] })).toEqual({
			dns_server_ips: ["10.89.0.1"],
			dns_search_domains: ["dns.podman"],
		});
		expect(
			networkDnsStatus({ dnsEnabled: true, gateways: ["10.89.1.1", "fd10::1"] }).dns_server_ips,
		).toEqual(["10.89.1.1", "fd10::1"]);
		// netavark (bridge.rs): DNS on but no gateway (no addresses) still names the search domain.
		expect(networkDnsStatus({ dnsEnabled: true, gateways: [] })).toEqual({
			dns_server_ips: [],
			dns_search_domains: ["dns.podman"],
		});
		expect(networkDnsStatus({ dnsEnabled: false, gateways: ["10.88.0.1"] })).toEqual({
			dns_server_ips: [],
			dns_search_domains: [],
		});
		expect(
			networkDnsStatus({
				dnsEnabled: false,
				gateways: ["10.88.0.1"],
				containerDnsServers: ["9.9.9.9"],
			}).dns_server_ips,
		).toEqual(["9.9.9.9"]);
	});

	test("DNSNames: the container's name, then its aliases, each once", () => {
		expect(dnsNames("web", ["web", "alias", "94d74e97e39a"])).toEqual([
			"web",
			"alias",
			"94d74e97e39a",
		]);
	});
});

describe("aardvark's argv", () => {
	test("netavark's command line (bats: `aardvark-dns --config DIR/aardvark-dns -p PORT run`)", () => {
		const c = {
			binary: "/usr/lib/podman/aardvark-dns",
			dir: "/run/containers/networks/aardvark-dns",
			port: 53,
		};
		expect(aardvarkCommand({ ...c, systemdScope: false, rootless: false })).toEqual([
			"/usr/lib/podman/aardvark-dns",
			"--config",
			"/run/containers/networks/aardvark-dns",
			"-p",
			"53",
			"run",
		]);
		expect(aardvarkCommand({ ...c, systemdScope: true, rootless: true }).slice(0, 5)).toEqual([
			"systemd-run",
			"-q",
			"--scope",
			"--user",
			"/usr/lib/podman/aardvark-dns",
		]);
	});

	test("a running aardvark is recognised by --config of a `run`, in clap's spellings", () => {
		expect(configArgOf(["aardvark-dns", "--config", "/d", "-p", "53", "run"])).toBe("/d");
		expect(configArgOf(["aardvark-dns", "--config=/d", "run"])).toBe("/d");
		expect(configArgOf(["aardvark-dns", "-c", "/d", "-p", "run", "run"])).toBe("/d");
		expect(configArgOf(["aardvark-dns", "--config", "/d", "version"])).toBeUndefined();
		expect(configArgOf(["sleep", "run"])).toBeUndefined();
		expect(
			configArgOf(["netavark", "--config", "/run/containers/networks", "setup", "/x"]),
		).toBeUndefined();
	});
});
