// The netavark front end's pure decisions: netavark 1.4's command line, RUST_LOG, which network
// carries which published ports, the per-network plan from podman's options, the DNS changes,
// and the error texts in netavark's words.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ERRNO, SysError } from "../../ffi/errno";
import { ArgsError, DEFAULT_CONFIG_DIR, parseArgs } from "../../src/netavark/args";
import { addChanges, removeChanges } from "../../src/netavark/dns";
import { describeError, fsErrorText, NetavarkError } from "../../src/netavark/errors";
import { formatLine, rustLogLevel } from "../../src/netavark/log";
import { DEFAULT_METRIC, type NetworkPlan, planNetworks } from "../../src/netavark/plan";
import { expandPorts, portsByNetwork } from "../../src/netavark/ports";
import { parseNetworkOptions } from "../../src/netavark/schema";
import { NetlinkError } from "../../src/netlink/error";

const strerror = (n: number) =>
	({ 2: "No such file or directory", 13: "Permission denied", 30: "Read-only file system" })[n] ??
	`errno ${n}`;
const SAMPLES = resolve(import.meta.dir, "../fixtures/netavark-samples");
const sample = (name: string) => readFileSync(`${SAMPLES}/rootful-${name}/stdin.capture`, "utf8");

describe("command line (netavark 1.4's clap grammar)", () => {
	test("podman's exact argv", () => {
		const argv = [
			"--config",
			"/run/containers/networks",
			"--rootless=false",
			"--aardvark-binary=/usr/lib/podman/aardvark-dns",
			"setup",
			"/run/netns/netns-1",
		];
		expect(parseArgs(argv)).toEqual({
			kind: "setup",
			netns: "/run/netns/netns-1",
			global: {
				config: "/run/containers/networks",
				rootless: false,
				aardvarkBinary: "/usr/lib/podman/aardvark-dns",
			},
		});
	});

	test("short options, attached values, defaults", () => {
		expect(parseArgs(["-f", "x.json", "-r", "true", "-c/tmp/c", "teardown", "/ns"])).toEqual({
			kind: "teardown",
			netns: "/ns",
			global: { file: "x.json", rootless: true, config: "/tmp/c" },
		});
		const d = parseArgs(["setup", "/ns"]);
		expect(d.kind === "setup" && d.global).toEqual({ config: DEFAULT_CONFIG_DIR, rootless: false });
	});

	test("version, --version, help, update", () => {
		expect(parseArgs(["version"])).toEqual({ kind: "version" });
		expect(parseArgs(["-V"])).toEqual({ kind: "print-version" });
		expect(parseArgs(["--help"]).kind).toBe("help");
		expect(parseArgs(["setup", "--help"]).kind).toBe("help");
		const u = parseArgs([
			"-c",
			"/c",
			"update",
			"net1",
			"--network-dns-servers",
			"8.8.8.8",
			"1.1.1.1",
		]);
		expect(u).toMatchObject({
			kind: "update",
			network: "net1",
			dnsServers: ["8.8.8.8", "1.1.1.1"],
		});
	});

	test("what clap refuses", () => {
		for (const argv of [
			[],
			["setup"],
			["bogus", "/ns"],
			["--rootless", "yes", "setup", "/ns"],
			["--nope", "setup", "/ns"],
			["setup", "/ns", "extra"],
			["--config"],
			["update", "net1"],
			["version", "x"],
		]) {
			expect(() => parseArgs(argv)).toThrow(ArgsError);
		}
	});
});

describe("RUST_LOG", () => {
	test("env_logger's directives", () => {
		expect(rustLogLevel(undefined, "netavark::ctrnet")).toBe("error");
		expect(rustLogLevel("netavark=warn", "netavark::ctrnet")).toBe("warn");
		expect(rustLogLevel("info", "netavark::ctrnet")).toBe("info");
		expect(rustLogLevel("debug,netavark=error", "netavark::ctrnet")).toBe("error");
		expect(rustLogLevel("netavark", "netavark::ctrnet")).toBe("trace");
		expect(rustLogLevel("aardvark=debug", "netavark::ctrnet")).toBe("error");
		expect(rustLogLevel("netavark::ctrnet=off,netavark=debug", "netavark::ctrnet")).toBe("off");
		expect(rustLogLevel("netavarkx=debug", "netavark::ctrnet")).toBe("error");
	});

	test("the line format", () => {
		expect(formatLine("info", "netavark::firewall", "hi")).toBe("[INFO  netavark::firewall] hi\n");
		expect(formatLine("error", "netavark", "x")).toBe("[ERROR netavark] x\n");
	});
});

describe("published ports", () => {
	test("ranges and protocol lists are spelt out", () => {
		const opts = parseNetworkOptions(sample("07-two-networks-udp-hostip-portrange-setup"));
		expect(expandPorts(opts.port_mappings)).toEqual([
			{ hostIP: "127.0.0.1", hostPort: 8082, containerPort: 80, protocol: "udp", mapping: 0 },
			{ hostIP: "", hostPort: 8083, containerPort: 83, protocol: "tcp", mapping: 1 },
			{ hostIP: "", hostPort: 8084, containerPort: 84, protocol: "tcp", mapping: 1 },
		]);
		expect(
			expandPorts([
				{ host_ip: "", host_port: 1, container_port: 2, range: 1, protocols: ["tcp", "udp"] },
			]),
		).toHaveLength(2);
	});

	test("each family rides on the first non-internal bridge network that has it", () => {
		const p = (hostIP: string) => ({
			hostIP,
			hostPort: 8080,
			containerPort: 80,
			protocol: "tcp" as const,
		});
		const nets = [
			{ name: "zz", eligible: true, addresses: ["10.1.0.2/24", "fd01::2/64"] },
			{ name: "b6", eligible: true, addresses: ["fd02::2/64"] },
			{ name: "a-internal", eligible: false, addresses: ["10.3.0.2/24"] },
		];
		const out = portsByNetwork(nets, [p(""), p("127.0.0.1"), p("fd00::1")]);
		expect(out.get("a-internal")).toEqual([]);
		expect(out.get("b6")).toEqual([{ ...p("::") }, p("fd00::1")]);
		expect(out.get("zz")).toEqual([{ ...p("0.0.0.0") }, p("127.0.0.1")]);
		// One network with both families keeps "" (both at once).
		expect(portsByNetwork([nets[0] as (typeof nets)[0]], [p("")]).get("zz")).toEqual([p("")]);
		// No eligible network: the ports go nowhere.
		expect(portsByNetwork([nets[2] as (typeof nets)[0]], [p("")]).get("a-internal")).toEqual([]);
	});
});

describe("plans from podman's options", () => {
	test("the captured two-network setup: ports on one network, metric 100, DNS only where on", () => {
		const opts = parseNetworkOptions(sample("07-two-networks-udp-hostip-portrange-setup"));
		const plans = planNetworks(opts, true);
		expect(plans.map((p) => p.name)).toEqual(["nvprobe-net", "podman"]);
		const [dnsNet, podman] = plans as [NetworkPlan, NetworkPlan];
		expect(dnsNet.ports).toHaveLength(3);
		expect(podman.ports).toEqual([]);
		expect(dnsNet.dns).toBe(true);
		expect(podman.dns).toBe(false);
		expect(dnsNet.net.options.metric).toBe(DEFAULT_METRIC);
		expect(dnsNet.addresses).toEqual([{ gateway: "10.89.0.1", ipnet: "10.89.0.4/24" }]);
		expect(podman.ifname).toBe("eth1");
	});

	test("a network's own metric stays; a static MAC is carried", () => {
		const opts = parseNetworkOptions(sample("11-dualstack-isolate-staticmac-setup"));
		const [plan] = planNetworks(opts, true);
		expect(plan?.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
		const withMetric = parseNetworkOptions(
			JSON.stringify({
				...JSON.parse(sample("01-default-bridge-p8080-setup")),
				network_info: {
					podman: {
						...JSON.parse(sample("01-default-bridge-p8080-setup")).network_info.podman,
						options: { metric: "200" },
					},
				},
			}),
		);
		expect(planNetworks(withMetric, true)[0]?.net.options.metric).toBe("200");
	});

	test("refusals: strict setup throws, teardown keeps the other networks", () => {
		const raw = JSON.parse(sample("07-two-networks-udp-hostip-portrange-setup"));
		raw.networks.podman.static_ips = [];
		const opts = parseNetworkOptions(JSON.stringify(raw));
		expect(() => planNetworks(opts, true)).toThrow("IO error: no static ips provided");
		const outcomes = planNetworks(opts, false);
		expect(outcomes.map((o) => ("plan" in o ? o.plan.name : `error ${o.name}`))).toEqual([
			"nvprobe-net",
			"error podman",
		]);
		raw.networks.podman.static_ips = ["10.88.0.4"];
		raw.network_info.podman.network_interface = "";
		expect(() => planNetworks(parseNetworkOptions(JSON.stringify(raw)), true)).toThrow(
			"no bridge interface name given",
		);
		delete raw.networks.podman;
		expect(() => planNetworks(parseNetworkOptions(JSON.stringify(raw)), true)).toThrow(
			"network options for network podman not found",
		);
	});

	test("IPAM none and unknown IPAM drivers (netavark's words)", () => {
		const raw = JSON.parse(sample("01-default-bridge-p8080-setup"));
		raw.network_info.podman.ipam_options = { driver: "none" };
		raw.network_info.podman.subnets = [];
		delete raw.networks.podman.static_ips;
		const [plan] = planNetworks(parseNetworkOptions(JSON.stringify(raw)), true);
		expect(plan?.addresses).toEqual([]);
		raw.network_info.podman.ipam_options = { driver: "someDriver" };
		expect(() => parseNetworkOptions(JSON.stringify(raw))).toThrow(
			"IO error: unsupported ipam driver someDriver",
		);
		raw.network_info.podman.ipam_options = { driver: "dhcp" };
		expect(() => parseNetworkOptions(JSON.stringify(raw))).toThrow(
			"IO error: dhcp ipam driver is not yet supported",
		);
	});
});

describe("DNS changes", () => {
	test("one add per bridge network with DNS on; removals from every such network", () => {
		const opts = parseNetworkOptions(sample("04-custom-dns-net-alias-ctr2-setup"));
		const plans = planNetworks(opts, true);
		const adds = addChanges(opts, plans);
		expect(adds).toHaveLength(1);
		expect(adds[0]).toMatchObject({
			action: "add",
			network: { name: "nvprobe-net", gateways: ["10.89.0.1"] },
			containerId: opts.container_id,
			containerName: "nvp-custom2",
			aliases: ["web2", opts.container_id.slice(0, 12)],
			ipv4: ["10.89.0.3"],
			ipv6: [],
		});
		expect(removeChanges(opts)).toEqual([
			{ action: "remove", network: { name: "nvprobe-net" }, containerId: opts.container_id },
		]);
		const none = parseNetworkOptions(sample("01-default-bridge-p8080-setup"));
		expect(addChanges(none, planNetworks(none, true))).toEqual([]);
		expect(removeChanges(none)).toEqual([]);
	});

	test("network_dns_servers reach the network's header, dns_servers the container's line", () => {
		const raw = JSON.parse(sample("04-custom-dns-net-alias-ctr2-setup"));
		raw.dns_servers = ["8.8.8.8"];
		raw.network_info["nvprobe-net"].network_dns_servers = ["1.1.1.1"];
		const opts = parseNetworkOptions(JSON.stringify(raw));
		const [add] = addChanges(opts, planNetworks(opts, true));
		expect(add).toMatchObject({ network: { dnsServers: ["1.1.1.1"] }, dnsServers: ["8.8.8.8"] });
	});
});

describe("errors in netavark's words", () => {
	test("IO errors, sysctls, IPv6 refused on a bridge; the rest keeps ctrnet's text", () => {
		expect(fsErrorText(Object.assign(new Error("x"), { code: "ENOENT" }), strerror)).toBe(
			"IO error: No such file or directory (os error 2)",
		);
		expect(
			describeError(new SysError("open", ERRNO.EROFS, "/proc/sys/net/ipv4/ip_forward"), strerror),
		).toBe("Sysctl error: IO Error: Read-only file system (os error 30)");
		expect(
			describeError(
				new NetlinkError("add address fd10::1/64 to bridge br0", ERRNO.EACCES, "off"),
				strerror,
			),
		).toBe(
			"add ip addr to bridge: failed to add ipv6 address, is ipv6 enabled in the kernel?: Netlink error: Permission denied (os error 13)",
		);
		expect(
			describeError(
				new NetlinkError("add address 10.0.0.1/24 to bridge br0", ERRNO.EACCES, "no"),
				strerror,
			),
		).toBe("netlink: add address 10.0.0.1/24 to bridge br0: EACCES: no");
		expect(describeError(new NetavarkError("as is"), strerror)).toBe("as is");
		expect(describeError(new Error("two\n  lines"), strerror)).toBe("two lines");
	});
});
