// The native macvlan data plane against the real kernel (root). The parent is a veth this file
// makes (this kernel has no dummy links), whose peer sits in a "router" namespace holding the
// gateway addresses; two containers on it reach each other and the router. Subnets 10.235.3.x
// and fd35:3::, names tnv<tag>…; the host is checked clean at the end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { ConflictError, NotFoundError } from "../../src/errors";
import {
	attachMacvlan,
	detachMacvlan,
	type MacvlanAttachment,
	type NativeNetwork,
} from "../../src/native";
import * as NS from "../../src/netns";
import { have } from "../lib/cli";
import { wipeNetnsDir } from "../lib/env";
import { mountsUnder, sh } from "../lib/host";

const ok = have(["ip", "nsenter", "ping"], true);
const tag = Math.random().toString(16).slice(2, 6);
const DIR = `/tmp/tnv-${tag}-mv`;
const NETNS = `${DIR}/netns`;
const PARENT = `tnv${tag}mp`;
const inNs = (path: string, cmd: string[]) => sh(["nsenter", `--net=${path}`, ...cmd]);

const network = (over: Partial<NativeNetwork> = {}): NativeNetwork => ({
	name: `tnv-mv-${tag}`,
	driver: "macvlan",
	network_interface: PARENT,
	subnets: [
		{ subnet: "10.235.3.0/24", gateway: "10.235.3.1" },
		{ subnet: "fd35:3::/64", gateway: "fd35:3::1" },
	],
	ipv6_enabled: true,
	internal: false,
	dns_enabled: false,
	...over,
});

let R = ""; // the router namespace: the parent's peer, with the gateway addresses

beforeAll(() => {
	if (!ok) return;
	R = NS.createNetns(NETNS, `tnv${tag}-router`);
	const cmds = [
		["ip", "link", "add", PARENT, "mtu", "1500", "type", "veth", "peer", "name", "up0"],
		["ip", "link", "set", "up0", "netns", R],
		["ip", "link", "set", PARENT, "up"],
	];
	for (const c of cmds) expect(sh(c).code).toBe(0);
	for (const c of [
		["sysctl", "-q", "-w", "net.ipv6.conf.up0.accept_dad=0"],
		["ip", "addr", "add", "10.235.3.1/24", "dev", "up0"],
		["ip", "addr", "add", "fd35:3::1/64", "dev", "up0"],
		["ip", "link", "set", "up0", "up"],
	]) {
		expect(inNs(R, c).code).toBe(0);
	}
});

afterAll(() => {
	if (!ok) return;
	sh(["ip", "link", "del", PARENT]);
	wipeNetnsDir(NETNS);
	rmSync(DIR, { recursive: true, force: true });
	const left = sh(["ip", "-o", "link"])
		.out.split("\n")
		.filter((l) => l.includes(`tnv${tag}`));
	for (const l of left) sh(["ip", "link", "del", (l.split(": ")[1] ?? "").split("@")[0] ?? ""]);
	expect(left).toEqual([]);
	expect(mountsUnder(NETNS)).toEqual([]);
});

describe.if(ok)("macvlan network", () => {
	let A = "";
	let B = "";
	let a: MacvlanAttachment;
	let b: MacvlanAttachment;

	test("two containers attach with the interface created in their netns", () => {
		A = NS.createNetns(NETNS, `tnv${tag}-a`);
		B = NS.createNetns(NETNS, `tnv${tag}-b`);
		const net = network({ options: { mtu: "1400", metric: "120" } });
		// eth0 also exists on most hosts: the name is only taken inside the container's netns.
		a = attachMacvlan({
			net,
			netnsPath: A,
			ifname: "eth0",
			addresses: ["10.235.3.2/24", "fd35:3::2/64"],
			mac: "02:35:03:00:00:02",
		});
		expect(inNs(A, ["ip", "-6", "addr"]).out).not.toContain("tentative");
		b = attachMacvlan({ net, netnsPath: B, ifname: "eth0", addresses: ["10.235.3.3/24"] });
		expect(a.mac).toBe("02:35:03:00:00:02");
		expect(a.result).toEqual({
			interfaces: [{ name: "eth0", mac: "02:35:03:00:00:02", sandbox: A, mtu: 1400 }],
			ips: [
				{ address: "10.235.3.2/24", gateway: "10.235.3.1", interface: 0 },
				{ address: "fd35:3::2/64", gateway: "fd35:3::1", interface: 0 },
			],
			routes: [
				{ dst: "0.0.0.0/0", gw: "10.235.3.1", priority: 120 },
				{ dst: "::/0", gw: "fd35:3::1", priority: 120 },
			],
			dns: {},
		});
		const link = inNs(A, ["ip", "-d", "-o", "link", "show", "dev", "eth0"]).out;
		expect(link).toContain("macvlan mode bridge");
		expect(link).toContain("mtu 1400");
		expect(link).toContain("02:35:03:00:00:02");
		expect(link).toContain(`@if`); // its parent lives in another namespace
		expect(inNs(A, ["ip", "route"]).out).toContain("default via 10.235.3.1 dev eth0 metric 120");
		expect(inNs(A, ["ip", "-6", "route"]).out).toContain(
			"default via fd35:3::1 dev eth0 metric 120",
		);
		const ether = inNs(B, ["ip", "-o", "link", "show", "dev", "eth0"]).out.match(/ether (\S+)/);
		expect(ether?.[1]).toBe(b.mac);
	});

	test("containers reach the gateway and each other (bridge mode)", () => {
		for (const [ns, dst] of [
			[A, "10.235.3.1"],
			[A, "fd35:3::1"],
			[A, "10.235.3.3"],
			[B, "10.235.3.2"],
		] as const) {
			const r = inNs(ns, ["ping", "-c", "1", "-W", "2", dst]);
			expect({ dst, code: r.code, out: r.out }).toMatchObject({ dst, code: 0 });
		}
	});

	test("detach deletes it inside the netns; again, or with the netns gone, is fine", () => {
		const net = network();
		detachMacvlan({ net, netnsPath: A, ifname: "eth0" });
		expect(inNs(A, ["ip", "-o", "link"]).out).not.toContain("eth0");
		detachMacvlan({ net, netnsPath: A, ifname: "eth0" });
		NS.removeNetns(B);
		detachMacvlan({ net, netnsPath: B, ifname: "eth0" });
		NS.removeNetns(A);
	});

	test("leaveToNetns only sets it down; the netns's removal takes it", () => {
		const net = network();
		const p = NS.createNetns(NETNS, `tnv${tag}-l`);
		attachMacvlan({ net, netnsPath: p, ifname: "eth0", addresses: ["10.235.3.8/24"] });
		detachMacvlan({ net, netnsPath: p, ifname: "eth0", leaveToNetns: true });
		const link = inNs(p, ["ip", "-o", "link", "show", "dev", "eth0"]).out;
		expect(link).toContain("state DOWN");
		expect(link).not.toMatch(/<[^>]*\bUP\b/);
		NS.removeNetns(p);
	});

	test("mode and a second container in private mode", () => {
		const net = network({ options: { mode: "private" } });
		const p = NS.createNetns(NETNS, `tnv${tag}-p`);
		attachMacvlan({ net, netnsPath: p, ifname: "net1", addresses: ["10.235.3.9/24"] });
		expect(inNs(p, ["ip", "-d", "-o", "link", "show", "dev", "net1"]).out).toContain(
			"macvlan mode private",
		);
		expect(inNs(p, ["ping", "-c", "1", "-W", "2", "10.235.3.1"]).code).toBe(0);
		detachMacvlan({ net, netnsPath: p, ifname: "net1" });
		NS.removeNetns(p);
	});

	test("a missing parent is a NotFoundError naming it; a taken name a ConflictError", () => {
		const p = NS.createNetns(NETNS, `tnv${tag}-x`);
		const missing = network({ network_interface: `tnv${tag}zz` });
		let err: unknown;
		try {
			attachMacvlan({ net: missing, netnsPath: p, ifname: "eth0", addresses: ["10.235.3.5/24"] });
		} catch (e) {
			err = e;
		}
		expect(err).toBeInstanceOf(NotFoundError);
		expect(String(err)).toContain(`parent interface tnv${tag}zz of macvlan network`);
		inNs(p, ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]);
		expect(() =>
			attachMacvlan({ net: network(), netnsPath: p, ifname: "eth0", addresses: ["10.235.3.5"] }),
		).toThrow(ConflictError);
		// A veth of that name is not ours to delete.
		expect(() => detachMacvlan({ net: network(), netnsPath: p, ifname: "eth0" })).toThrow(
			/not a macvlan/,
		);
		NS.removeNetns(p);
	});

	test("a failure after creation deletes the macvlan again", () => {
		const p = NS.createNetns(NETNS, `tnv${tag}-f`);
		inNs(p, ["sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1"]);
		expect(() =>
			attachMacvlan({
				net: network(),
				netnsPath: p,
				ifname: "eth0",
				addresses: ["10.235.3.6/24", "fd35:3::6/64"],
			}),
		).toThrow(/add address fd35:3::6\/64 to eth0/);
		expect(inNs(p, ["ip", "-o", "link"]).out).not.toContain("eth0");
		NS.removeNetns(p);
	});
});
