// The native bridge data plane against the real kernel (root): containers are namespaces this
// file creates; every check reads the result back with iproute2 inside them. Subnets 10.235.x
// and fd35:x::, names tnv<tag>…; the host is checked clean at the end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { ConflictError, NotFoundError, UsageError } from "../../src/errors";
import {
	attachBridge,
	type BridgeAttachment,
	detachBridge,
	ensureBridge,
	hostVethName,
	type NativeNetwork,
	removeBridgeIfUnused,
} from "../../src/native";
import { readSysctl } from "../../src/native/sysctl";
import * as N from "../../src/netlink";
import * as NS from "../../src/netns";
import { have } from "../lib/cli";
import { wipeNetnsDir } from "../lib/env";
import { bridgePorts, mountsUnder, sh } from "../lib/host";

const ok = have(["ip", "nsenter", "ping"], true);
const tag = Math.random().toString(16).slice(2, 6);
const DIR = `/tmp/tnv-${tag}`;
const NETNS = `${DIR}/netns`;
const LOCKS = `${DIR}/locks`;
const made: string[] = []; // host veths this file created, checked gone at the end

const network = (over: Partial<NativeNetwork> & { name: string }): NativeNetwork => ({
	driver: "bridge",
	network_interface: `tnv${tag}${over.name.slice(-2)}`,
	subnets: [],
	ipv6_enabled: false,
	internal: false,
	dns_enabled: false,
	...over,
});

const inNs = (path: string, cmd: string[]) => sh(["nsenter", `--net=${path}`, ...cmd]);
const links = () => sh(["ip", "-o", "link"]).out;
const linkExists = (name: string) => N.withNetlink(undefined, (nl) => !!N.findLink(nl, name));

function attach(req: Parameters<typeof attachBridge>[0]): BridgeAttachment {
	const a = attachBridge(req);
	made.push(a.hostVeth);
	return a;
}

beforeAll(() => {
	if (!ok) return;
	rmSync(DIR, { recursive: true, force: true });
});

afterAll(() => {
	if (!ok) return;
	wipeNetnsDir(NETNS);
	const left = links()
		.split("\n")
		.filter((l) => l.includes(`tnv${tag}`) || made.some((v) => l.includes(`${v}@`)));
	rmSync(DIR, { recursive: true, force: true });
	// Whatever a failed test left is removed, and still fails the run.
	for (const l of left) sh(["ip", "link", "del", (l.split(": ")[1] ?? "").split("@")[0] ?? ""]);
	expect(left).toEqual([]);
	expect(mountsUnder(NETNS)).toEqual([]);
});

describe.if(ok)("bridge network, dual stack", () => {
	const net = network({
		name: "dual-d1",
		subnets: [
			{ subnet: "10.235.1.0/24", gateway: "10.235.1.1" },
			{ subnet: "fd35:1::/64", gateway: "fd35:1::1" },
		],
		ipv6_enabled: true,
		options: { mtu: "1400" },
	});
	const br = net.network_interface;
	let A = "";
	let B = "";
	let a: BridgeAttachment;
	let b: BridgeAttachment;

	test("two containers attach; the first creates the bridge", () => {
		A = NS.createNetns(NETNS, `tnv${tag}-a`);
		B = NS.createNetns(NETNS, `tnv${tag}-b`);
		a = attach({
			net,
			netnsPath: A,
			ifname: "eth0",
			addresses: ["10.235.1.2/24", "fd35:1::2/64"],
			mac: "02:35:00:00:00:02",
			lockDir: LOCKS,
		});
		// Right after attach, before any wait: no address may be tentative (DAD is off).
		const v6 = inNs(A, ["ip", "-6", "addr", "show", "dev", "eth0"]).out;
		expect(v6).toContain("fd35:1::2/64");
		expect(v6).toContain("fe80::");
		expect(v6).not.toContain("tentative");
		b = attach({
			net,
			netnsPath: B,
			ifname: "eth0",
			addresses: ["10.235.1.3/24", "fd35:1::3/64"],
			lockDir: LOCKS,
		});
		expect(inNs(B, ["ip", "-6", "addr"]).out).not.toContain("tentative");
		expect(a.hostVeth).toBe(hostVethName(A, "eth0"));
		expect(b.hostVeth).not.toBe(a.hostVeth);
		expect(bridgePorts(br).sort()).toEqual([a.hostVeth, b.hostVeth].sort());
	});

	test("the result is the CNI model: bridge, host veth, container interface", () => {
		const bridgeMac = N.withNetlink(undefined, (nl) => N.getLink(nl, br).mac);
		const hostMac = N.withNetlink(undefined, (nl) => N.getLink(nl, a.hostVeth).mac);
		expect(a.mac).toBe("02:35:00:00:00:02");
		expect(a.result).toEqual({
			interfaces: [
				{ name: br, mac: bridgeMac },
				{ name: a.hostVeth, mac: hostMac },
				{ name: "eth0", mac: "02:35:00:00:00:02", sandbox: A, mtu: 1400 },
			],
			ips: [
				{ address: "10.235.1.2/24", gateway: "10.235.1.1", interface: 2 },
				{ address: "fd35:1::2/64", gateway: "fd35:1::1", interface: 2 },
			],
			routes: [
				{ dst: "0.0.0.0/0", gw: "10.235.1.1" },
				{ dst: "::/0", gw: "fd35:1::1" },
			],
			dns: {},
		});
		// b got a kernel-chosen MAC, reported as the kernel has it.
		const ether = inNs(B, ["ip", "-o", "link", "show", "dev", "eth0"]).out.match(/ether (\S+)/);
		expect(ether?.[1]).toBe(b.mac);
	});

	test("static MAC, mtu, routes and sysctls are applied", () => {
		const link = inNs(A, ["ip", "-o", "link", "show", "dev", "eth0"]).out;
		expect(link).toContain("02:35:00:00:00:02");
		expect(link).toContain("mtu 1400");
		expect(link).toMatch(/state UP/);
		expect(inNs(A, ["ip", "-o", "link", "show", "dev", "lo"]).out).toContain("UP");
		expect(inNs(A, ["ip", "route"]).out).toContain("default via 10.235.1.1 dev eth0");
		expect(inNs(A, ["ip", "-6", "route"]).out).toContain("default via fd35:1::1 dev eth0");
		expect(inNs(A, ["sysctl", "-n", "net.ipv6.conf.eth0.accept_dad"]).out.trim()).toBe("0");
		expect(inNs(A, ["sysctl", "-n", "net.ipv6.conf.eth0.autoconf"]).out.trim()).toBe("0");
		const brAddrs = sh(["ip", "addr", "show", "dev", br]).out;
		expect(brAddrs).toContain("10.235.1.1/24");
		expect(brAddrs).toContain("fd35:1::1/64");
		expect(brAddrs).not.toContain("tentative");
		expect(sh(["ip", "-o", "link", "show", "dev", br]).out).toContain("mtu 1400");
		expect(readSysctl(`net/ipv4/conf/${br}/route_localnet`)).toBe("1");
		expect(readSysctl(`net/ipv6/conf/${br}/accept_dad`)).toBe("0");
		expect(readSysctl(`net/ipv6/conf/${br}/accept_ra`)).toBe("0");
		expect(readSysctl("net/ipv4/ip_forward")).toBe("1");
		expect(readSysctl("net/ipv6/conf/all/forwarding")).toBe("1");
		expect(sh(["ip", "-o", "link", "show", "dev", a.hostVeth]).out).toContain(`master ${br}`);
	});

	test("container <-> gateway and container <-> container, IPv4 and IPv6", () => {
		for (const [ns, dst] of [
			[A, "10.235.1.1"],
			[A, "fd35:1::1"],
			[A, "10.235.1.3"],
			[A, "fd35:1::3"],
			[B, "10.235.1.2"],
			[B, "fd35:1::2"],
		] as const) {
			const r = inNs(ns, ["ping", "-c", "1", "-W", "2", dst]);
			expect({ dst, code: r.code, out: r.out }).toMatchObject({ dst, code: 0 });
		}
	});

	test("ensureBridge on the warm bridge changes nothing", () => {
		const before = N.withNetlink(undefined, (nl) => N.getLink(nl, br));
		const again = ensureBridge(net);
		expect(again).toEqual({ name: br, index: before.index, mac: before.mac, mtu: 1400 });
	});

	test("detach removes the veth (idempotent); the bridge goes with the last one", () => {
		detachBridge({ net, netnsPath: A, ifname: "eth0", hostVeth: a.hostVeth });
		expect(linkExists(a.hostVeth)).toBe(false);
		expect(inNs(A, ["ip", "-o", "link"]).out).not.toContain("eth0");
		detachBridge({ net, netnsPath: A, ifname: "eth0", hostVeth: a.hostVeth });
		expect(removeBridgeIfUnused(net, { lockDir: LOCKS })).toBe(false);
		expect(linkExists(br)).toBe(true);
		// The container's netns is gone first: detaching from the host side still works.
		NS.removeNetns(B);
		detachBridge({ net, ifname: "eth0", hostVeth: b.hostVeth });
		expect(linkExists(b.hostVeth)).toBe(false);
		let ran = 0;
		expect(removeBridgeIfUnused(net, { lockDir: LOCKS, underLock: () => ran++ })).toBe(true);
		expect(ran).toBe(1);
		expect(linkExists(br)).toBe(false);
		expect(removeBridgeIfUnused(net, { lockDir: LOCKS })).toBe(true);
		NS.removeNetns(A);
	});
});

describe.if(ok)("detach that leaves the deletion to the netns's removal", () => {
	// In a child process: a netns this process entered can be kept alive by a Bun thread born
	// while the JS thread was inside it (notes/bun-platform.md, pitfall 3); the child's exit
	// releases any such pin, so the kernel's clean-up is what is observed here.
	const net = network({ name: "lv-l1", subnets: [{ subnet: "10.235.12.0/24" }] });
	const child = `
		import * as NS from ${JSON.stringify(`${import.meta.dir}/../../src/netns`)};
		import * as L from ${JSON.stringify(`${import.meta.dir}/../../src/netlink`)};
		import * as V from ${JSON.stringify(`${import.meta.dir}/../../src/native`)};
		const net = ${JSON.stringify(net)};
		const p = NS.createNetns(${JSON.stringify(NETNS)}, "tnv${tag}-lv");
		const a = V.attachBridge({ net, netnsPath: p, ifname: "eth0", addresses: ["10.235.12.2/24"] });
		V.detachBridge({ net, ifname: "eth0", hostVeth: a.hostVeth, leaveToNetns: true });
		const l = L.withNetlink(undefined, (nl) => L.getLink(nl, a.hostVeth));
		const removed = V.removeBridgeIfUnused(net, { lockDir: ${JSON.stringify(LOCKS)} });
		NS.removeNetns(p);
		console.log(JSON.stringify({ hostVeth: a.hostVeth, up: l.up, master: l.master ?? 0, removed }));
	`;

	test("the veth is down and off the bridge at once, and gone with the netns", async () => {
		const p = Bun.spawn([process.execPath, "-e", child], { stdout: "pipe", stderr: "pipe" });
		const [out, err, code] = await Promise.all([
			new Response(p.stdout).text(),
			new Response(p.stderr).text(),
			p.exited,
		]);
		expect({ code, err }).toEqual({ code: 0, err: "" });
		const r = JSON.parse(out) as {
			hostVeth: string;
			up: boolean;
			master: number;
			removed: boolean;
		};
		made.push(r.hostVeth);
		expect(r).toMatchObject({ up: false, master: 0, removed: true });
		let waited = 0;
		while (linkExists(r.hostVeth) && waited < 5000) {
			await Bun.sleep(20);
			waited += 20;
		}
		expect(linkExists(r.hostVeth)).toBe(false);
	});
});

describe.if(ok)("network variants", () => {
	test("internal network: no default route, bridge does not forward", () => {
		const net = network({
			name: "int-i1",
			subnets: [{ subnet: "10.235.4.0/24", gateway: "10.235.4.1" }],
			internal: true,
		});
		const p = NS.createNetns(NETNS, `tnv${tag}-i`);
		const a = attach({ net, netnsPath: p, ifname: "eth0", addresses: ["10.235.4.2/24"] });
		expect(a.result.routes).toEqual([]);
		expect(inNs(p, ["ip", "route"]).out).not.toContain("default");
		expect(inNs(p, ["ip", "-6", "route"]).out).not.toContain("default");
		expect(inNs(p, ["ping", "-c", "1", "-W", "2", "10.235.4.1"]).code).toBe(0);
		expect(readSysctl(`net/ipv4/conf/${net.network_interface}/forwarding`)).toBe("0");
		detachBridge({ net, ifname: "eth0", hostVeth: a.hostVeth });
		expect(removeBridgeIfUnused(net, { lockDir: LOCKS })).toBe(true);
		NS.removeNetns(p);
	});

	test("a bridge found half-made (a racing setup's, still down) is finished, twice over", () => {
		const net = network({
			name: "half-h1",
			subnets: [{ subnet: "10.235.13.0/24" }, { subnet: "fd35:13::/64" }],
			ipv6_enabled: true,
		});
		const br = net.network_interface;
		expect(sh(["ip", "link", "add", br, "type", "bridge"]).code).toBe(0);
		const first = ensureBridge(net);
		// Down again, addresses still on: the next setup redoes every step; EEXIST is fine.
		sh(["ip", "link", "set", br, "down"]);
		expect(ensureBridge(net).index).toBe(first.index);
		const show = sh(["ip", "addr", "show", "dev", br]).out;
		expect(show).toMatch(/<[^>]*\bUP\b/); // a bridge without ports says "state UNKNOWN"
		expect(show).not.toContain("tentative");
		expect(show).toContain("10.235.13.1/24");
		expect(show).toContain("fd35:13::1/64");
		expect(removeBridgeIfUnused(net, { lockDir: LOCKS })).toBe(true);
	});

	test("metric option: default routes carry it; a second interface on another network", () => {
		const n1 = network({
			name: "met-m1",
			subnets: [{ subnet: "10.235.7.0/24", gateway: "10.235.7.1" }],
			options: { metric: "150" },
		});
		const n2 = network({
			name: "met-m2",
			subnets: [{ subnet: "10.235.8.0/24", gateway: "10.235.8.1" }],
			options: { metric: "250" },
		});
		const p = NS.createNetns(NETNS, `tnv${tag}-m`);
		const a1 = attach({ net: n1, netnsPath: p, ifname: "eth0", addresses: ["10.235.7.2/24"] });
		const a2 = attach({ net: n2, netnsPath: p, ifname: "eth1", addresses: ["10.235.8.2/24"] });
		const routes = inNs(p, ["ip", "route"]).out;
		expect(routes).toContain("default via 10.235.7.1 dev eth0 metric 150");
		expect(routes).toContain("default via 10.235.8.1 dev eth1 metric 250");
		expect(a2.result.routes).toEqual([{ dst: "0.0.0.0/0", gw: "10.235.8.1", priority: 250 }]);
		detachBridge({ net: n1, ifname: "eth0", hostVeth: a1.hostVeth });
		detachBridge({ net: n2, ifname: "eth1", hostVeth: a2.hostVeth });
		expect(removeBridgeIfUnused(n1, { lockDir: LOCKS })).toBe(true);
		expect(removeBridgeIfUnused(n2, { lockDir: LOCKS })).toBe(true);
		NS.removeNetns(p);
	});

	test("inside another netns (a rootless netns): bridge and sysctls land there", () => {
		const outer = NS.createNetns(NETNS, `tnv${tag}-r`);
		const ctr = NS.createNetns(NETNS, `tnv${tag}-rc`);
		const net = network({
			name: "rls-r1",
			subnets: [{ subnet: "10.235.6.0/24" }, { subnet: "fd35:6::/64" }],
			ipv6_enabled: true,
		});
		const br = net.network_interface;
		const a = NS.inNetns(outer, () =>
			attachBridge({ net, netnsPath: ctr, ifname: "eth0", addresses: ["10.235.6.9", "fd35:6::9"] }),
		);
		expect(linkExists(br)).toBe(false);
		expect(existsSync(`/proc/sys/net/ipv4/conf/${br}`)).toBe(false);
		expect(inNs(outer, ["sysctl", "-n", `net.ipv4.conf.${br}.route_localnet`]).out.trim()).toBe(
			"1",
		);
		expect(inNs(outer, ["sysctl", "-n", `net.ipv6.conf.${br}.accept_dad`]).out.trim()).toBe("0");
		expect(inNs(outer, ["sysctl", "-n", "net.ipv6.conf.all.forwarding"]).out.trim()).toBe("1");
		expect(inNs(ctr, ["ping", "-c", "1", "-W", "2", "10.235.6.1"]).code).toBe(0);
		expect(inNs(ctr, ["ping", "-c", "1", "-W", "2", "fd35:6::1"]).code).toBe(0);
		expect(a.result.ips.map((i) => i.address)).toEqual(["10.235.6.9/24", "fd35:6::9/64"]);
		NS.inNetns(outer, () => {
			detachBridge({ net, ifname: "eth0", hostVeth: a.hostVeth });
			expect(removeBridgeIfUnused(net, { lockDir: LOCKS })).toBe(true);
		});
		expect(inNs(outer, ["ip", "-o", "link"]).out).not.toContain(br);
		NS.removeNetns(ctr);
		NS.removeNetns(outer);
	});
});

describe.if(ok)("errors leave nothing behind", () => {
	const net = network({
		name: "err-e1",
		subnets: [{ subnet: "10.235.5.0/24" }, { subnet: "fd35:5::/64" }],
		ipv6_enabled: true,
	});
	const ports = () => bridgePorts(net.network_interface);

	test("a failure inside the container's netns deletes the veth again", () => {
		const p = NS.createNetns(NETNS, `tnv${tag}-e`);
		// IPv6 off in the container: its IPv6 address cannot be added, after the veth exists.
		inNs(p, ["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]);
		inNs(p, ["sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1"]);
		expect(() =>
			attachBridge({
				net,
				netnsPath: p,
				ifname: "eth0",
				addresses: ["10.235.5.2/24", "fd35:5::2/64"],
				lockDir: LOCKS,
			}),
		).toThrow(/add address fd35:5::2\/64 to eth0/);
		expect(linkExists(hostVethName(p, "eth0"))).toBe(false);
		expect(inNs(p, ["ip", "-o", "link"]).out).not.toContain("eth0");
		expect(ports()).toEqual([]);
		NS.removeNetns(p);
	});

	test("an interface name taken in the container: ConflictError, nothing created", () => {
		const p = NS.createNetns(NETNS, `tnv${tag}-c`);
		inNs(p, ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]);
		let err: unknown;
		try {
			attachBridge({ net, netnsPath: p, ifname: "eth0", addresses: ["10.235.5.3/24"] });
		} catch (e) {
			err = e;
		}
		expect(err).toBeInstanceOf(ConflictError);
		expect(String(err)).toContain(`interface eth0 already exists in network namespace ${p}`);
		expect(linkExists(hostVethName(p, "eth0"))).toBe(false);
		NS.removeNetns(p);
	});

	test("the host end's name taken on the host: the next salted name is used", () => {
		const p = NS.createNetns(NETNS, `tnv${tag}-s`);
		const squatter = hostVethName(p, "eth0");
		made.push(squatter);
		expect(
			sh(["ip", "link", "add", squatter, "type", "veth", "peer", "name", `tnv${tag}sq`]).code,
		).toBe(0);
		const a = attach({ net, netnsPath: p, ifname: "eth0", addresses: ["10.235.5.4/24"] });
		expect(a.hostVeth).toBe(hostVethName(p, "eth0", 1));
		expect(inNs(p, ["ping", "-c", "1", "-W", "2", "10.235.5.1"]).code).toBe(0);
		// The squatter is not ours to delete through the attachment, and stays.
		detachBridge({ net, ifname: "eth0", hostVeth: a.hostVeth });
		expect(linkExists(squatter)).toBe(true);
		sh(["ip", "link", "del", squatter]);
		NS.removeNetns(p);
	});

	test("missing netns, bad input, a non-bridge under the bridge's name, a non-veth to detach", () => {
		expect(() =>
			attachBridge({
				net,
				netnsPath: `${NETNS}/nope`,
				ifname: "eth0",
				addresses: ["10.235.5.5/24"],
			}),
		).toThrow(NotFoundError);
		expect(() =>
			attachBridge({ net, netnsPath: `${NETNS}/x`, ifname: "eth0", addresses: ["10.9.0.1/24"] }),
		).toThrow(UsageError);
		expect(() =>
			attachBridge({ net, netnsPath: `${NETNS}/x`, ifname: "eth0/", addresses: ["10.235.5.5"] }),
		).toThrow(UsageError);
		const squat = network({ name: "sq-q1", subnets: [{ subnet: "10.235.5.0/24" }] });
		sh([
			"ip",
			"link",
			"add",
			squat.network_interface,
			"type",
			"veth",
			"peer",
			"name",
			`tnv${tag}qp`,
		]);
		expect(() => ensureBridge(squat)).toThrow(/exists and is not a bridge \(veth\)/);
		sh(["ip", "link", "del", squat.network_interface]);
		// detachBridge deletes veths only: the bridge under that name stays.
		expect(() => detachBridge({ net, ifname: "eth0", hostVeth: net.network_interface })).toThrow(
			/is a bridge, not the veth/,
		);
		expect(linkExists(net.network_interface)).toBe(true);
		expect(removeBridgeIfUnused(net, { lockDir: LOCKS })).toBe(true);
	});
});

test.if(ok)("lock files stay in the lock dir, one per network", () => {
	const files = existsSync(LOCKS) ? sh(["ls", LOCKS]).out.split("\n").filter(Boolean) : [];
	expect(files).toContain("dual-d1.lock");
	expect(readFileSync(`${LOCKS}/dual-d1.lock`, "utf8")).toBe("");
});
