// The pure decisions of the container lifecycle: every refusal of a setup request, the record a
// setup plans, which interface a network gets, the CNI runtime config, and what gc decides.
import { describe, expect, test } from "bun:test";
import { interfaceFor, pinFromResult } from "../../src/container/attachments";
import { runtimeConf } from "../../src/container/drivers/cni-conf";
import { containerGone, deathReason, type Facts, recoveryFor } from "../../src/container/gc";
import { planRecord, type RecordFacts } from "../../src/container/record";
import { parseSetup, type RawSetup } from "../../src/container/request";
import type { Container } from "../../src/state/schema";
import { record } from "../lib/record";

const raw = (over: Partial<RawSetup> = {}): RawSetup => ({
	id: "c1",
	networks: [],
	publish: [],
	aliases: [],
	...over,
});
const setup = (over: Partial<RawSetup> = {}, rootless = false) =>
	parseSetup(raw(over), "ctrnet", rootless, "slirp4netns");

describe("parseSetup refuses, with its message", () => {
	const cases: [string, Partial<RawSetup>, boolean, RegExp][] = [
		["a bad ID", { id: "../x" }, false, /^invalid container ID "\.\.\/x": must match/],
		["a bad name", { name: "a b" }, false, /^invalid name "a b"/],
		["--netns with --pid", { netns: "/run/netns/x", pid: "1" }, false, /exclude each other/],
		["a relative --netns", { netns: "run/x" }, false, /must be an absolute path without '\.\.'/],
		["--netns with ..", { netns: "/run/../etc" }, false, /without '\.\.'/],
		["a bad --pid", { pid: "0" }, false, /^invalid --pid "0"/],
		["a bad --ip", { ip: "10.0.0.256" }, false, /^invalid IP address/],
		["a multicast --mac", { mac: "01:00:5e:00:00:01" }, false, /multicast/],
		["a bad --mac", { mac: "zz:00:00:00:00:01" }, false, /^invalid MAC address/],
		["a bad --publish", { publish: ["80:x"] }, false, /./],
		["a bad --alias", { aliases: ["-x"] }, false, /^invalid alias/],
		[
			"--ip without a network",
			{ networks: ["none"], ip: "10.0.0.2" },
			false,
			/--ip and --mac need a network, not --network none/,
		],
		[
			"--publish with host",
			{ networks: ["host"], publish: ["80"] },
			false,
			/--publish needs slirp4netns or pasta or a network, not --network host/,
		],
		[
			"--alias with slirp4netns",
			{ networks: ["slirp4netns"], aliases: ["x"] },
			false,
			/--alias needs a network, not --network slirp4netns/,
		],
		[
			"--pid with container:",
			{ networks: ["container:x"], pid: "5" },
			false,
			/cannot be used with --network container/,
		],
		[
			"--netns with ns:",
			{ networks: ["ns:/run/netns/x"], netns: "/run/netns/y" },
			false,
			/cannot be used with --network ns/,
		],
		[
			"a static IP rootless",
			{ networks: ["slirp4netns"], ip: "10.0.2.5" },
			true,
			/--ip and --mac need a network/,
		],
		["two special modes", { networks: ["none", "host"] }, false, /cannot be combined/],
	];
	for (const [what, over, rootless, message] of cases) {
		test(what, () => expect(() => setup(over, rootless)).toThrow(message));
	}
	test("and accepts what each mode takes", () => {
		expect(setup({ networks: ["b,a"], ip: "10.0.0.2", aliases: ["x", "x"] })).toMatchObject({
			mode: { mode: "bridge", networks: ["a", "b"] },
			ip: "10.0.0.2",
			aliases: ["x"],
			netns: { kind: "create" },
		});
		expect(
			setup({ networks: ["slirp4netns"], publish: ["8080:80"], pid: "7" }, true),
		).toMatchObject({
			netns: { kind: "pid", pid: 7 },
			ports: [{ hostPort: 8080, containerPort: 80 }],
		});
	});
});

const facts = (over: Partial<RecordFacts> = {}): RecordFacts => ({
	now: "2026-01-01T00:00:00.000Z",
	netnsName: "cni-fixed",
	self: { pid: 42, startTime: "4242" },
	hostPortTaken: () => false,
	portRange: [40000, 40010],
	random: () => 0,
	...over,
});
const cfg = { netnsDir: "/run/netns", rootless: false };

describe("planRecord", () => {
	test("a namespace ctrnet creates: owned, under the netns dir, claimed for setup", () => {
		const c = planRecord(setup({ networks: ["b", "a"] }), cfg, facts(), []);
		expect(c).toMatchObject({
			status: "creating",
			owner: { pid: 42, startTime: "4242" },
			op: { kind: "setup" },
			netns: { path: "/run/netns/cni-fixed", owned: true },
			portsNetwork: "a",
			aliases: { a: [], b: [] },
			networks: [],
		});
	});
	test("--pid as root: pinned (owned) AND the process recorded; rootless: the /proc path", () => {
		const f = facts({ pidStartTime: "777" });
		expect(planRecord(setup({ pid: "9" }), cfg, f, []).netns).toEqual({
			path: "/run/netns/cni-fixed",
			owned: true,
			pid: 9,
			pidStartTime: "777",
		});
		const rootless = { ...cfg, rootless: true };
		expect(
			planRecord(setup({ pid: "9", networks: ["slirp4netns"] }, true), rootless, f, []).netns,
		).toEqual({ path: "/proc/9/ns/net", owned: false, pid: 9, pidStartTime: "777" });
	});
	test("joined namespaces are never owned; container: takes the other's path; host has none", () => {
		expect(planRecord(setup({ netns: "/x/ns" }), cfg, facts(), []).netns).toEqual({
			path: "/x/ns",
			owned: false,
		});
		const other = record({ id: "o", netns: { path: "/run/netns/o", owned: true } });
		expect(planRecord(setup({ networks: ["container:o"] }), cfg, facts(), [other]).netns).toEqual({
			path: "/run/netns/o",
			owned: false,
		});
		expect(planRecord(setup({ networks: ["host"] }), cfg, facts(), []).netns).toBeNull();
	});
	test("host ports: another container's or the host's are refused; a free one is picked", () => {
		const other = record({
			id: "o",
			ports: [{ hostIP: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }],
		});
		expect(() => planRecord(setup({ publish: ["8080:80"] }), cfg, facts(), [other])).toThrow(
			/8080\/tcp is already in use/,
		);
		const hostHas = facts({ hostPortTaken: (_p, port) => port === 9090 });
		expect(() => planRecord(setup({ publish: ["9090:80"] }), cfg, hostHas, [])).toThrow(/in use/);
		const picked = planRecord(setup({ publish: ["80"] }), cfg, facts({ random: () => 0 }), []);
		expect(picked.ports).toEqual([
			{ hostIP: "", hostPort: 40000, containerPort: 80, protocol: "tcp" },
		]);
	});
});

describe("attachments", () => {
	test("interfaceFor: the first ethN unused by the container and in its joined namespace", () => {
		expect(interfaceFor(record(), "a")).toBe("eth0");
		expect(interfaceFor(record({ interfaces: { a: "eth0" } }), "b")).toBe("eth1");
		expect(interfaceFor(record({ interfaces: { a: "eth3" } }), "a")).toBe("eth3");
		expect(interfaceFor(record(), "a", new Set(["eth0", "eth1"]))).toBe("eth2");
	});
	test("pinFromResult keeps the IPv4 address and its interface's MAC, of any result version", () => {
		const r040 = {
			cniVersion: "0.4.0",
			interfaces: [{ name: "eth0", mac: "02:00:00:00:00:05", sandbox: "/x" }],
			ips: [
				{ version: "6", address: "fd00::5/64", interface: 0 },
				{ version: "4", address: "10.0.0.5/24", interface: 0 },
			],
		};
		expect(pinFromResult(r040)).toEqual({ ip: "10.0.0.5", mac: "02:00:00:00:00:05" });
		expect(pinFromResult({ cniVersion: "0.2.0", ip4: { ip: "10.0.0.6/24" } })).toEqual({
			ip: "10.0.0.6",
		});
		expect(pinFromResult("junk")).toEqual({});
	});
	test("runtimeConf: podman's CNI_ARGS, a static address, and only the capabilities in use", () => {
		const c = record({
			id: "c1",
			name: "web",
			ports: [{ hostIP: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }],
			portsNetwork: "a",
			aliases: { a: ["w"], b: [] },
			interfaces: { a: "eth0", b: "eth1" },
		});
		expect(runtimeConf(c, "a", { ip: "10.0.0.9", mac: "02:00:00:00:00:09" })).toEqual({
			containerId: "c1",
			netns: "/run/netns/cni-1",
			ifName: "eth0",
			args: [
				["IgnoreUnknown", "1"],
				["K8S_POD_NAMESPACE", "web"],
				["K8S_POD_NAME", "web"],
				["K8S_POD_INFRA_CONTAINER_ID", "c1"],
				["IP", "10.0.0.9"],
				["MAC", "02:00:00:00:00:09"],
			],
			capabilityArgs: {
				ips: ["10.0.0.9"],
				mac: "02:00:00:00:00:09",
				portMappings: c.ports,
				aliases: c.aliases,
			},
		});
		// The ports ride on one network only.
		expect(runtimeConf(c, "b").capabilityArgs).toEqual({ aliases: c.aliases });
		expect(runtimeConf(record(), "a").capabilityArgs).toEqual({});
	});
});

describe("gc decisions", () => {
	const live: Facts = { netnsMounted: () => true, alive: () => true, known: () => true };
	const dead = (over: Partial<Facts>): Facts => ({ ...live, ...over });
	const mine = (over: Partial<Container>) => record({ owner: { pid: 7, startTime: "1" }, ...over });

	test("a live, ready container is left alone; a change in progress too", () => {
		expect(deathReason(record(), live)).toBeUndefined();
		expect(deathReason(mine({ status: "creating", op: { kind: "setup" } }), live)).toBeUndefined();
	});
	test("why a container is dead", () => {
		expect(deathReason(record(), dead({ netnsMounted: () => false }))).toBe(
			"netns /run/netns/cni-1 is gone",
		);
		const pinned = record({
			netns: { path: "/run/netns/p", owned: true, pid: 9, pidStartTime: "3" },
		});
		expect(deathReason(pinned, dead({ alive: () => false }))).toBe("process 9 is gone");
		expect(deathReason(pinned, dead({ netnsMounted: () => false }))).toBeUndefined(); // the pid rules
		const shared = record({ mode: { mode: "container", id: "o" }, netns: null });
		expect(deathReason(shared, dead({ known: () => false }))).toContain("(o) is gone");
		const hooked = record({ hook: { bundle: "/b", pid: 5, startTime: "6" } });
		expect(deathReason(hooked, dead({ alive: () => false }))).toContain("process 5 is gone");
		expect(deathReason(record({ status: "removing" }), live)).toBe(
			"left half torn down (removing)",
		);
	});
	test("a dead owner: its operation is named, and repaired alone while the container lives", () => {
		const ownerDead: Facts = { ...live, alive: (pid) => pid !== 7 };
		const connect = mine({
			status: "creating",
			op: { kind: "connect", network: "n2", portsNetwork: "n1" },
		});
		expect(deathReason(connect, ownerDead)).toBe(
			"ctrnet process 7 died while connecting it (network n2)",
		);
		expect(recoveryFor(connect, ownerDead)).toEqual(connect.op as never);
		// …but a container that is gone as well is torn down whole.
		const both: Facts = { ...ownerDead, netnsMounted: () => false };
		expect(containerGone(connect, both)).toBeDefined();
		expect(recoveryFor(connect, both)).toEqual({ kind: "teardown" });
		const setupOp = mine({ status: "creating", op: { kind: "setup" } });
		expect(recoveryFor(setupOp, ownerDead)).toEqual({ kind: "teardown" });
		const reload = mine({ status: "creating", op: { kind: "reload", networks: ["a"] } });
		expect(recoveryFor(reload, ownerDead)).toEqual({ kind: "reload", networks: ["a"] });
	});
});

test("stats from /proc/PID/net/dev (rootless): the counters by column", async () => {
	const { parseProcNetDev } = await import("../../src/container/stats");
	const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0:    1506      17    1    2    0     0          0         0      866       9    3    4    0     0       0          0
`;
	expect(parseProcNetDev(text)).toEqual([
		{
			ifname: "lo",
			counters: {
				rx_bytes: 0,
				rx_packets: 0,
				rx_errors: 0,
				rx_dropped: 0,
				tx_bytes: 0,
				tx_packets: 0,
				tx_errors: 0,
				tx_dropped: 0,
			},
		},
		{
			ifname: "eth0",
			counters: {
				rx_bytes: 1506,
				rx_packets: 17,
				rx_errors: 1,
				rx_dropped: 2,
				tx_bytes: 866,
				tx_packets: 9,
				tx_errors: 3,
				tx_dropped: 4,
			},
		},
	]);
});
