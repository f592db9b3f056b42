// What pasta configured, read from a container's /proc/PID/net files (captured here from a
// rootless container pasta set up, host 10.238.250.2/24 via .1 and fd38::2/64 via fd38::1), and
// the result inspect shows from it.
import { expect, test } from "bun:test";
import { buildInspect, PASTA_NOTE } from "../../src/container/inspect";
import { addressesFromProc, pastaResult } from "../../src/pasta/addresses";
import { record } from "../lib/record";

const fibTrie = `Main:
  +-- 0.0.0.0/1 2 0 2
     +-- 0.0.0.0/4 2 0 2
        |-- 0.0.0.0
           /0 universe UNICAST
        +-- 10.238.250.0/24 2 0 2
           +-- 10.238.250.0/30 2 0 2
              |-- 10.238.250.0
                 /24 link UNICAST
              |-- 10.238.250.2
                 /32 host LOCAL
           |-- 10.238.250.255
              /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/1 2 0 2
     +-- 0.0.0.0/4 2 0 2
        |-- 0.0.0.0
           /0 universe UNICAST
        +-- 10.238.250.0/24 2 0 2
           +-- 10.238.250.0/30 2 0 2
              |-- 10.238.250.0
                 /24 link UNICAST
              |-- 10.238.250.2
                 /32 host LOCAL
`;
const route = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
tpa-xup	00000000	01FAEE0A	0003	0	0	0	00000000	0	0	0
tpa-xup	00FAEE0A	00000000	0001	0	0	0	00FFFFFF	0	0	0
`;
const ifInet6 = `fe80000000000000cc6a52fffe56cbd0 02 40 20 c0  tpa-xup
00000000000000000000000000000001 01 80 10 80       lo
fd380000000000000000000000000002 02 40 00 82  tpa-xup
`;
const ipv6Route = `fd380000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001  tpa-xup
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001  tpa-xup
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd380000000000000000000000000001 00000400 00000001 00000000 00000003  tpa-xup
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

test("addresses, prefixes and gateways from /proc/PID/net", () => {
	expect(addressesFromProc({ fibTrie, route, ifInet6, ipv6Route })).toEqual({
		ifname: "tpa-xup",
		addrs: [
			{ cidr: "10.238.250.2/24", gateway: "10.238.250.1" },
			{ cidr: "fd38::2/64", gateway: "fd38::1" },
		],
	});
});

test("IPv4 only (no IPv6 route on the host): no v6 address, no v6 gateway", () => {
	const v4 = addressesFromProc({
		fibTrie,
		route,
		ifInet6: ifInet6.split("\n").slice(0, 2).join("\n"),
		ipv6Route: "",
	});
	expect(v4.addrs).toEqual([{ cidr: "10.238.250.2/24", gateway: "10.238.250.1" }]);
});

test("the stored result keeps the DNS forwarder only for families the container has", () => {
	const a = { ifname: "eth0", mac: "aa:bb:cc:dd:ee:ff", addrs: [{ cidr: "192.0.2.5/24" }] };
	expect(pastaResult(a, ["169.254.0.1", "fd00::53"], "/run/netns/x")).toEqual({
		cniVersion: "1.0.0",
		interfaces: [{ name: "eth0", mac: "aa:bb:cc:dd:ee:ff", sandbox: "/run/netns/x" }],
		ips: [{ address: "192.0.2.5/24", interface: 0 }],
		dns: { nameservers: ["169.254.0.1"] },
	});
});

test("inspect: a pasta entry (podman names it after the mode) with the copied addresses, said so", () => {
	const found = addressesFromProc({ fibTrie, route, ifInet6, ipv6Route });
	const c = record({
		mode: { mode: "pasta", options: [] },
		ports: [{ hostIP: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }],
		results: { pasta: pastaResult(found, ["169.254.0.1"], "/proc/7/ns/net") },
		helpers: [{ kind: "pasta", pid: 9, startTime: "1" }],
	});
	const s = buildInspect(c).NetworkSettings;
	expect(s.IPAddress).toBe("10.238.250.2");
	expect(s.IPPrefixLen).toBe(24);
	expect(s.Gateway).toBe("10.238.250.1");
	expect(s.GlobalIPv6Address).toBe("fd38::2");
	expect(s.Ports).toEqual({ "80/tcp": [{ HostIp: "", HostPort: "8080" }] });
	expect(Object.keys(s.Networks)).toEqual(["pasta"]);
	expect(s.Networks.pasta).toMatchObject({
		NetworkID: "pasta",
		IPAddress: "10.238.250.2",
		InterfaceName: "tpa-xup",
		Note: PASTA_NOTE,
	});
	expect(PASTA_NOTE).toContain("the host's own address");
	// Without a readable result (it could not be read): the entry still says what it is.
	const bare = buildInspect(record({ mode: { mode: "pasta", options: [] } })).NetworkSettings;
	expect(bare.IPAddress).toBe("");
	expect(bare.Networks.pasta?.NetworkID).toBe("pasta");
});
