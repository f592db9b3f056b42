import { expect, test } from "bun:test";
import { basicFromResult, buildInspect, portBindings } from "../../src/container/inspect";
import type { Container } from "../../src/state/schema";
import { record } from "../lib/record";

const result040 = {
	cniVersion: "0.4.0",
	interfaces: [
		{ name: "ctrnet0", mac: "aa:aa:aa:aa:aa:01" },
		{ name: "veth1", mac: "aa:aa:aa:aa:aa:02" },
		{ name: "eth0", mac: "aa:aa:aa:aa:aa:03", sandbox: "/run/netns/x" },
	],
	ips: [
		{ version: "4", interface: 2, address: "10.90.0.5/16", gateway: "10.90.0.1" },
		{ version: "6", interface: 2, address: "fd00::5/64", gateway: "fd00::1" },
		{ version: "4", interface: 2, address: "10.91.0.5/24" },
	],
};

test("first v4 on top with its interface's MAC, the rest secondary", () => {
	const b = basicFromResult(result040);
	expect(b).toMatchObject({
		IPAddress: "10.90.0.5",
		IPPrefixLen: 16,
		Gateway: "10.90.0.1",
		MacAddress: "aa:aa:aa:aa:aa:03",
		GlobalIPv6Address: "fd00::5",
		GlobalIPv6PrefixLen: 64,
		IPv6Gateway: "fd00::1",
		SecondaryIPAddresses: ["10.91.0.5/24"],
	});
});

test("a 1.0.0 result (no ips[].version) reads the same", () => {
	const r = {
		...result040,
		cniVersion: "1.0.0",
		ips: result040.ips.map(({ version, ...ip }) => ip),
	};
	expect(basicFromResult(r).IPAddress).toBe("10.90.0.5");
	expect(basicFromResult(r).GlobalIPv6Address).toBe("fd00::5");
});

test("ports group by container port and protocol", () => {
	expect(
		portBindings([
			{ hostIP: "", hostPort: 4000, containerPort: 8080, protocol: "tcp" },
			{ hostIP: "127.0.0.1", hostPort: 8000, containerPort: 8080, protocol: "tcp" },
			{ hostIP: "", hostPort: 53, containerPort: 53, protocol: "udp" },
		]),
	).toEqual({
		"8080/tcp": [
			{ HostIp: "", HostPort: "4000" },
			{ HostIp: "127.0.0.1", HostPort: "8000" },
		],
		"53/udp": [{ HostIp: "", HostPort: "53" }],
	});
});

test("buildInspect: networks, top-level fields from the first, sandbox key", () => {
	const c: Container = record({
		id: "c1",
		name: "web",
		netns: { path: "/run/netns/cni-1", owned: true },
		mode: { mode: "bridge", networks: ["a", "b"] },
		ports: [],
		portsNetwork: "a",
		networks: ["a", "b"],
		aliases: { b: ["db"] },
		interfaces: { a: "eth0", b: "eth1" },
		results: {
			a: result040,
			b: { ips: [{ address: "10.5.0.2/26", interface: 0 }], interfaces: [{ name: "eth1" }] },
		},
	});
	const i = buildInspect(c);
	expect(i.NetworkSettings.SandboxKey).toBe("/run/netns/cni-1");
	expect(i.NetworkSettings.IPAddress).toBe("10.90.0.5");
	expect(i.NetworkSettings.Bridge).toBe("ctrnet0");
	expect(i.NetworkSettings.Networks.b).toMatchObject({
		NetworkID: "b",
		IPPrefixLen: 26,
		Aliases: ["db"],
		InterfaceName: "eth1",
	});
	expect(i.NetworkSettings.Networks.a?.Aliases).toBeUndefined();
});

test("a stand-in interface gets the addresses the cached result put on the container's interface", async () => {
	const { standInAddresses } = await import("../../src/container/drivers/cni-standin");
	const result = {
		interfaces: [{ name: "br0" }, { name: "veth1" }, { name: "eth1", sandbox: "/x" }],
		ips: [
			{ address: "10.1.0.5/24", interface: 2 },
			{ address: "fd00::5/64", interface: 2 },
			{ address: "10.9.9.9/24", interface: 0 },
		],
		routes: [],
		dns: {},
	};
	expect(standInAddresses(result, "eth1")).toEqual(["10.1.0.5/24", "fd00::5/64"]);
	// A result without interface indexes (IPAM-only chains): every address.
	expect(standInAddresses({ ...result, ips: [{ address: "10.1.0.6/24" }] }, "eth1")).toEqual([
		"10.1.0.6/24",
	]);
});
