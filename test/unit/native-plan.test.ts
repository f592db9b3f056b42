// The native data plane's pure decisions: options, interface names, what a container interface
// gets, the host veth's name, the requests' order and the CNI-shaped result.
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors";
import { configureRequests } from "../../src/native/inside";
import { lockPath } from "../../src/native/lock";
import { hostVethName, randomMac } from "../../src/native/names";
import {
	bridgeAddresses,
	buildResult,
	checkIfname,
	hasIpv6,
	networkOptions,
	planInterface,
} from "../../src/native/plan";
import type { NativeNetwork } from "../../src/native/types";
import { NativeNetworkSchema } from "../../src/native/types";
import {
	type Attr,
	decodeIfaddrmsg,
	decodeIfinfomsg,
	decodeRtmsg,
	encodeAttrs,
	getU32,
	IFA_F_NODAD,
	IFA_FLAGS,
	IFF_UP,
	IFLA_INFO_DATA,
	IFLA_LINK,
	IFLA_LINKINFO,
	IFLA_MACVLAN_MODE,
	IFLA_MASTER,
	IFLA_NET_NS_FD,
	MACVLAN_MODES,
	macvlanRequest,
	RTA_PRIORITY,
	RTM_NEWADDR,
	RTM_NEWLINK,
	RTM_NEWROUTE,
	VETH_INFO_PEER,
	vethRequest,
} from "../../src/netlink";

const net = (over: Partial<NativeNetwork> = {}): NativeNetwork => ({
	name: "n1",
	driver: "bridge",
	network_interface: "tnvbr0",
	subnets: [{ subnet: "10.235.0.0/24", gateway: "10.235.0.1" }, { subnet: "fd35::/64" }],
	ipv6_enabled: true,
	internal: false,
	dns_enabled: false,
	...over,
});

describe("networkOptions", () => {
	test("reads podman's string options and numbers", () => {
		expect(networkOptions(net({ options: { mtu: "1400", metric: "150", mode: "vepa" } }))).toEqual({
			mtu: 1400,
			metric: 150,
			mode: "vepa",
		});
		expect(networkOptions(net({ options: { mtu: 9000 } }))).toEqual({ mtu: 9000, mode: "bridge" });
		expect(networkOptions(net())).toEqual({ mode: "bridge" });
		expect(networkOptions(net({ options: { mtu: "" } }))).toEqual({ mode: "bridge" });
	});
	test("refuses junk with the option's name", () => {
		expect(() => networkOptions(net({ options: { mtu: "big" } }))).toThrow(/option mtu="big"/);
		expect(() => networkOptions(net({ options: { mtu: "20" } }))).toThrow(UsageError);
		expect(() => networkOptions(net({ options: { metric: "-1" } }))).toThrow(/metric/);
		expect(() => networkOptions(net({ options: { mode: "bogus" } }))).toThrow(/bridge, private/);
	});
});

test("checkIfname follows the kernel's dev_valid_name", () => {
	expect(checkIfname("eth0", "x")).toBe("eth0");
	expect(checkIfname("a".repeat(15), "x")).toBe("a".repeat(15));
	for (const bad of ["", "a".repeat(16), ".", "..", "a/b", "a:b", "a b"]) {
		expect(() => checkIfname(bad, "interface")).toThrow(UsageError);
	}
});

describe("planInterface", () => {
	test("dual stack: addresses with their gateways, one default route per family", () => {
		const p = planInterface(net(), ["10.235.0.5/24", "fd35::5"]);
		expect(p.addresses).toEqual([
			{ cidr: "10.235.0.5/24", family: 4, gateway: "10.235.0.1" },
			{ cidr: "fd35::5/64", family: 6, gateway: "fd35::1" }, // bridge default: first address
		]);
		expect(p.routes).toEqual([
			{ family: 4, gateway: "10.235.0.1" },
			{ family: 6, gateway: "fd35::1" },
		]);
		expect(p.ipv6).toBe(true);
		expect(p.mtu).toBeUndefined();
	});
	test("internal: no default route; metric and mtu from options, mtu argument wins", () => {
		expect(planInterface(net({ internal: true }), ["10.235.0.5/24"]).routes).toEqual([]);
		const p = planInterface(net({ options: { metric: "200", mtu: "1400" } }), ["10.235.0.9/24"]);
		expect(p.routes).toEqual([{ family: 4, gateway: "10.235.0.1", metric: 200 }]);
		expect(p.mtu).toBe(1400);
		expect(planInterface(net({ options: { mtu: "1400" } }), ["10.235.0.9"], 1300).mtu).toBe(1300);
	});
	test("macvlan takes only an explicit gateway", () => {
		const m = net({ driver: "macvlan", subnets: [{ subnet: "10.235.3.0/24" }] });
		const p = planInterface(m, ["10.235.3.7/24"]);
		expect(p.addresses).toEqual([{ cidr: "10.235.3.7/24", family: 4 }]);
		expect(p.routes).toEqual([]);
	});
	test("the gateway address is assigned when asked for, as netavark does", () => {
		const p = planInterface(net(), ["10.235.0.1/24"]);
		expect(p.addresses[0]).toEqual({ cidr: "10.235.0.1/24", family: 4, gateway: "10.235.0.1" });
	});
	test("refuses addresses outside the subnets, none at all", () => {
		expect(() => planInterface(net(), ["10.9.9.9/24"])).toThrow(/not in its subnets \(10.235.0.0/);
		expect(() => planInterface(net(), [])).toThrow(/no address/);
		expect(() => planInterface(net(), ["nonsense"])).toThrow(/invalid address/);
		const bad = net({ subnets: [{ subnet: "10.235.0.0/24", gateway: "10.1.1.1" }] });
		expect(() => planInterface(bad, ["10.235.0.2/24"])).toThrow(/not in subnet/);
	});
});

test("bridgeAddresses and hasIpv6", () => {
	expect(bridgeAddresses(net())).toEqual(["10.235.0.1/24", "fd35::1/64"]);
	expect(hasIpv6(net())).toBe(true);
	expect(hasIpv6(net({ ipv6_enabled: false, subnets: [{ subnet: "10.235.0.0/24" }] }))).toBe(false);
});

test("hostVethName: 15 characters, deterministic, salted per attempt", () => {
	const a = hostVethName("/run/netns/x", "eth0");
	expect(a).toMatch(/^veth[0-9a-f]{11}$/);
	expect(hostVethName("/run/netns/x", "eth0")).toBe(a);
	expect(hostVethName("/run/netns/x", "eth1")).not.toBe(a);
	expect(hostVethName("/run/netns/y", "eth0")).not.toBe(a);
	expect(hostVethName("/run/netns/x", "eth0", 1)).not.toBe(a);
});

test("randomMac is unicast and locally administered", () => {
	for (let i = 0; i < 50; i++) {
		const first = Number.parseInt(randomMac().slice(0, 2), 16);
		expect(first & 1).toBe(0);
		expect(first & 2).toBe(2);
	}
});

test("lockPath: the network's name when it is a plain file name, else a hash", () => {
	expect(lockPath("/run/l", "podman")).toBe("/run/l/podman.lock");
	expect(lockPath("/run/l", "../evil")).toMatch(/^\/run\/l\/net-[0-9a-f]{32}\.lock$/);
});

test("configureRequests: up, lo up, addresses (v6 without DAD), then routes with the metric", () => {
	const plan = planInterface(net({ options: { metric: "77" } }), ["10.235.0.5/24", "fd35::5/64"]);
	const items = configureRequests("eth0", 7, plan);
	expect(items.map((i) => i.type)).toEqual([
		RTM_NEWLINK,
		RTM_NEWLINK,
		RTM_NEWADDR,
		RTM_NEWADDR,
		RTM_NEWROUTE,
		RTM_NEWROUTE,
	]);
	const v6 = items[3];
	expect(decodeIfaddrmsg(v6?.body as Uint8Array).index).toBe(7);
	const flags = v6?.attrs?.find((a) => a.type === IFA_FLAGS)?.value as Uint8Array;
	expect(getU32(flags)).toBe(IFA_F_NODAD);
	const route = items[4];
	expect(decodeRtmsg(route?.body as Uint8Array).dstLen).toBe(0);
	const prio = route?.attrs?.find((a) => a.type === RTA_PRIORITY)?.value as Uint8Array;
	expect(getU32(prio)).toBe(77);
});

test("vethRequest and macvlanRequest carry master, up, parent, netns and mode", () => {
	const nested = (attrs: Attr[], type: number) =>
		attrs.find((a) => a.type === type)?.value as Attr[];
	const v = vethRequest(
		"vethx",
		"eth0",
		{ master: 9, up: true, mtu: 1400, mac: "02:00:00:00:00:01" },
		33,
	);
	expect(decodeIfinfomsg(v.body).flags & IFF_UP).toBe(IFF_UP);
	expect(getU32(v.attrs.find((a) => a.type === IFLA_MASTER)?.value as Uint8Array)).toBe(9);
	const peer = nested(nested(nested(v.attrs, IFLA_LINKINFO), IFLA_INFO_DATA), VETH_INFO_PEER);
	expect(getU32(peer.find((a) => a.type === IFLA_NET_NS_FD)?.value as Uint8Array)).toBe(33);
	expect(peer.find((a) => a.type === IFLA_MASTER)).toBeUndefined();
	const m = macvlanRequest("eth0", { parent: 4, mode: "vepa", netnsFd: 12 });
	expect(getU32(m.attrs.find((a) => a.type === IFLA_LINK)?.value as Uint8Array)).toBe(4);
	expect(getU32(m.attrs.find((a) => a.type === IFLA_NET_NS_FD)?.value as Uint8Array)).toBe(12);
	const data = nested(nested(m.attrs, IFLA_LINKINFO), IFLA_INFO_DATA);
	expect(getU32(data.find((a) => a.type === IFLA_MACVLAN_MODE)?.value as Uint8Array)).toBe(
		MACVLAN_MODES.vepa,
	);
	// The encoder accepts what was built (sizes and nesting add up).
	expect(encodeAttrs(m.attrs).byteLength).toBeGreaterThan(0);
});

test("buildResult: bridge, host veth, container interface; ips point at the container", () => {
	const plan = planInterface(net(), ["10.235.0.5/24"]);
	const r = buildResult(
		plan,
		{ name: "eth0", mac: "02:00:00:00:00:05", sandbox: "/run/netns/x" },
		{ bridge: { name: "tnvbr0", mac: "02:00:00:00:00:01" }, veth: { name: "vethx", mac: "m" } },
	);
	expect(r).toEqual({
		interfaces: [
			{ name: "tnvbr0", mac: "02:00:00:00:00:01" },
			{ name: "vethx", mac: "m" },
			{ name: "eth0", mac: "02:00:00:00:00:05", sandbox: "/run/netns/x" },
		],
		ips: [{ address: "10.235.0.5/24", gateway: "10.235.0.1", interface: 2 }],
		routes: [{ dst: "0.0.0.0/0", gw: "10.235.0.1" }],
		dns: {},
	});
	const m = buildResult(plan, { name: "eth0", mac: "x", sandbox: "/p" }, undefined);
	expect(m.ips[0]?.interface).toBe(0);
	expect(m.interfaces).toHaveLength(1);
});

test("NativeNetworkSchema reads podman's network JSON and keeps unknown fields", () => {
	const raw = {
		name: "podman",
		id: "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
		driver: "bridge",
		network_interface: "podman0",
		created: "2022-11-29T10:00:00Z",
		subnets: [{ subnet: "10.88.0.0/16", gateway: "10.88.0.1" }],
		ipv6_enabled: false,
		internal: false,
		dns_enabled: false,
		ipam_options: { driver: "host-local" },
	};
	const n = NativeNetworkSchema().parse(raw);
	expect(n.network_interface).toBe("podman0");
	expect((n as Record<string, unknown>).id).toBe(raw.id);
	expect(NativeNetworkSchema().safeParse({ ...raw, driver: "ipvlan" }).success).toBe(false);
});
