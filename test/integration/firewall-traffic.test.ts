// The native backend's firewall against real traffic. Each test builds its own little world with
// iproute2 (test code only): a "host" network namespace with bridges, container namespaces on
// veths, and an "outside" namespace on an uplink. ctrnet's firewall runs inside the "host" namespace through a
// libnftables context opened there. Names start with tfw-<random>; addresses are 10.234.0.0/16
// and fd34::/16. Every test ends with the firewall empty and its namespaces and servers gone.
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { Subprocess } from "bun";
import {
	baseCommands,
	type Firewall,
	type FwNetwork,
	type FwPort,
	openFirewall,
	setupCommands,
} from "../../src/firewall";
import { formatIp, parseIp } from "../../src/ip/address";
import { have } from "../lib/cli";
import { must, sh } from "../lib/host";

const ok = have(["ip", "socat", "nft", "iptables", "ip6tables", "ss", "timeout", "ping"], true);

const UPLINK4 = "10.234.255.1";
const UPLINK6 = "fd34:ff::1";
const OUTSIDE4 = "10.234.255.2";
const OUTSIDE6 = "fd34:ff::2";

interface LabNetwork extends FwNetwork {
	gw4: string;
	gw6?: string;
	prefix4: string;
	prefix6?: string;
}

interface Container {
	ns: string;
	ip4: string;
	ip6?: string;
}

/** A reply of our socat servers: "<name>/<port> <peer address>" (socat takes ":" as a separator). */
interface Reply {
	who: string;
	peer: string;
}

class Lab {
	readonly id = randomBytes(2).toString("hex");
	readonly host = `tfw-${this.id}-h`;
	readonly outside = `tfw-${this.id}-o`;
	readonly namespaces: string[] = [];
	readonly servers: Subprocess[] = [];
	readonly fw: Firewall;

	constructor() {
		this.netns(this.host);
		this.netns(this.outside);
		const up = `tfw-${this.id}-up`;
		must([
			"ip",
			"-n",
			this.host,
			"link",
			"add",
			up,
			"type",
			"veth",
			"peer",
			"eth0",
			"netns",
			this.outside,
		]);
		this.addr(this.host, up, `${UPLINK4}/24`, `${UPLINK6}/64`);
		this.addr(this.outside, "eth0", `${OUTSIDE4}/24`, `${OUTSIDE6}/64`);
		// The outside could answer containers directly: a refused packet is the firewall's doing,
		// and masquerade shows in the source address it sees.
		must(["ip", "-n", this.outside, "route", "add", "10.234.0.0/16", "via", UPLINK4]);
		must(["ip", "-n", this.outside, "-6", "route", "add", "fd34::/16", "via", UPLINK6]);
		// What the native backend's data-plane helper does on a real host.
		this.sysctl(this.host, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
		this.fw = openFirewall(`/run/netns/${this.host}`);
	}

	private netns(name: string) {
		must(["ip", "netns", "add", name]);
		this.namespaces.push(name);
		must(["ip", "-n", name, "link", "set", "lo", "up"]);
	}

	private addr(ns: string, dev: string, a4: string, a6?: string) {
		must(["ip", "-n", ns, "addr", "add", a4, "dev", dev]);
		if (a6) must(["ip", "-n", ns, "addr", "add", a6, "dev", dev, "nodad"]);
		must(["ip", "-n", ns, "link", "set", dev, "up"]);
	}

	sysctl(ns: string, ...settings: string[]) {
		must(["ip", "netns", "exec", ns, "sysctl", "-qw", ...settings]);
	}

	/** A bridge network 10.234.<n>.0/24 (and fd34:<n>::/64), gateway .1 on the host. */
	network(n: number, opts: { v6?: boolean; internal?: boolean; isolate?: boolean } = {}) {
		const bridge = `tfw-${this.id}-b${n}`;
		must(["ip", "-n", this.host, "link", "add", bridge, "type", "bridge"]);
		const net: LabNetwork = {
			name: `tfw-net${n}`,
			bridge,
			subnets: [`10.234.${n}.0/24`, ...(opts.v6 ? [`fd34:${n}::/64`] : [])],
			internal: opts.internal ?? false,
			isolate: opts.isolate ?? false,
			gw4: `10.234.${n}.1`,
			prefix4: `10.234.${n}.`,
			...(opts.v6 ? { gw6: `fd34:${n}::1`, prefix6: `fd34:${n}::` } : {}),
		};
		this.addr(this.host, bridge, `${net.gw4}/24`, net.gw6 && `${net.gw6}/64`);
		this.sysctl(this.host, `net.ipv4.conf.${bridge}.route_localnet=1`);
		return net;
	}

	/** A container namespace on the network, address .<host>, default routes via the gateway. */
	container(net: LabNetwork, host: number): Container {
		const ns = `tfw-${this.id}-${net.bridge.slice(-2)}c${host}`;
		this.netns(ns);
		const veth = `tfw-${this.id}-${net.bridge.slice(-1)}${host}`;
		must(["ip", "-n", this.host, "link", "add", veth, "type", "veth", "peer", "eth0", "netns", ns]);
		must(["ip", "-n", this.host, "link", "set", veth, "master", net.bridge, "up"]);
		// With bridge netfilter loaded (as here, and wherever Docker runs), a container reaching
		// its own published port is DNATed at the bridge and sent back out of its own port: the
		// port needs hairpin mode (the data-plane helper's job, as CNI's bridge plugin does).
		must(["ip", "-n", this.host, "link", "set", veth, "type", "bridge_slave", "hairpin", "on"]);
		const c: Container = {
			ns,
			ip4: `${net.prefix4}${host}`,
			...(net.prefix6 ? { ip6: `${net.prefix6}${host}` } : {}),
		};
		this.addr(ns, "eth0", `${c.ip4}/24`, c.ip6 && `${c.ip6}/64`);
		must(["ip", "-n", ns, "route", "add", "default", "via", net.gw4]);
		if (net.gw6) must(["ip", "-n", ns, "-6", "route", "add", "default", "via", net.gw6]);
		return c;
	}

	/** socat servers answering "<name>/<port> <peer>" on TCP (v4, v6) or UDP (v4). */
	async serve(ns: string, name: string, port: number, kind: "tcp4" | "tcp6" | "udp4" = "tcp4") {
		const listen = {
			tcp4: `TCP4-LISTEN:${port},fork,reuseaddr`,
			tcp6: `TCP6-LISTEN:${port},ipv6only=1,fork,reuseaddr`,
			udp4: `UDP4-RECVFROM:${port},fork`,
		}[kind];
		this.servers.push(
			Bun.spawn(
				["ip", "netns", "exec", ns, "socat", listen, `SYSTEM:echo ${name}/${port} $SOCAT_PEERADDR`],
				{ stdin: "ignore", stdout: "ignore", stderr: "ignore" },
			),
		);
		const flag = kind === "udp4" ? "-Hlun" : "-Hltn";
		for (let i = 0; i < 200; i++) {
			if (sh(["ip", "netns", "exec", ns, "ss", flag, `sport = :${port}`]).out.trim()) return;
			await Bun.sleep(10);
		}
		throw new Error(`no ${kind} server on port ${port} in ${ns}`);
	}

	/**
	 * Waits until IPv6 neighbours answer: on fresh links the first packets towards a new IPv6
	 * neighbour are lost for up to a second (seen here without any firewall too).
	 */
	async settle(...pairs: [ns: string, addr: string][]) {
		for (const [ns, addr] of pairs) {
			for (let i = 0; ; i++) {
				if (sh(["ip", "netns", "exec", ns, "ping", "-c1", "-W1", addr]).code === 0) break;
				if (i === 5) throw new Error(`${addr} does not answer from ${ns}`);
				await Bun.sleep(200);
			}
		}
	}

	/** One request from namespace `ns`; the server's reply, or null when nothing came back. */
	request(ns: string, addr: string, port: number, proto: "tcp" | "udp" = "tcp"): Reply | null {
		const v6 = addr.includes(":");
		const target =
			proto === "udp"
				? `UDP${v6 ? 6 : 4}:${v6 ? `[${addr}]` : addr}:${port}`
				: `TCP${v6 ? 6 : 4}:${v6 ? `[${addr}]` : addr}:${port},connect-timeout=1`;
		// A datagram (or its reply) can be lost on a loaded machine: UDP gets three tries.
		for (let attempt = 0; attempt < (proto === "udp" ? 3 : 1); attempt++) {
			const r = sh(["timeout", "4", "ip", "netns", "exec", ns, "socat", "-T1", "-", target], {
				stdin: proto === "udp" ? "x\n" : "",
			});
			const [who, peer] = r.out.trim().split(" ");
			if (who && peer) return { who, peer: formatIp(parseIp(peer.replace(/^\[|\]$/g, ""))) };
		}
		return null;
	}

	nft(...args: string[]): string {
		return must(["ip", "netns", "exec", this.host, "nft", ...args]);
	}

	/** The ctrnet table's elements, one "<set>: <element>" per line (empty sets say nothing). */
	elements(): string[] {
		const r = sh([
			"ip",
			"netns",
			"exec",
			this.host,
			"nft",
			"-j",
			"list",
			"table",
			"inet",
			"ctrnet",
		]);
		if (r.code !== 0) return [];
		const doc = JSON.parse(r.out) as {
			nftables: Record<string, { name?: string; elem?: unknown[] }>[];
		};
		return doc.nftables.flatMap((o) => {
			const s = o.set ?? o.map;
			return s?.elem ? s.elem.map((e) => `${s.name}: ${JSON.stringify(e)}`) : [];
		});
	}

	/** Anything of ctrnet's in the host namespace's ruleset (tables, our iptables rule). */
	leftovers(): string[] {
		return this.nft("list", "ruleset")
			.split("\n")
			.filter((l) => /ctrnet|0x10000000/.test(l));
	}

	async close() {
		for (const s of this.servers) s.kill();
		await Promise.all(this.servers.map((s) => s.exited));
		try {
			this.fw.wipe();
		} finally {
			this.fw.close();
			for (const ns of this.namespaces) sh(["ip", "netns", "del", ns]);
		}
		const listed = sh(["ip", "netns", "list"]).out;
		expect(listed).not.toContain(`tfw-${this.id}-`);
		for (const s of this.servers) expect(s.killed || s.exitCode !== null).toBe(true);
	}
}

const port = (
	containerIP: string,
	hostPort: number,
	containerPort: number,
	more: Partial<FwPort> = {},
) => ({ hostIP: "", protocol: "tcp", containerIP, hostPort, containerPort, ...more }) as FwPort;

describe.if(ok)("native firewall with real traffic", () => {
	test("masquerade; ports over v4, v6, 127.0.0.1, UDP and a range; hairpin; [::1] left alone", async () => {
		const lab = new Lab();
		try {
			const a = lab.network(1, { v6: true });
			const c1 = lab.container(a, 2);
			const c2 = lab.container(a, 3);
			const c1Ports = [
				port(c1.ip4, 8080, 80),
				port(c1.ip6 as string, 8080, 80),
				port(c1.ip4, 5353, 53, { protocol: "udp" }),
				port(c1.ip4, 9000, 80),
				port(c1.ip4, 9001, 81),
				port(c1.ip4, 9002, 82),
				port(c1.ip4, 8081, 80, { hostIP: "127.0.0.1" }),
				port(c1.ip6 as string, 8082, 80, { hostIP: UPLINK6 }),
			];
			lab.fw.setup(a, c1Ports, { container: "c1" });
			lab.fw.setup(a, [], { container: "c2" });
			for (const p of [80, 81, 82]) await lab.serve(c1.ns, "c1", p);
			await lab.serve(c1.ns, "c1v6", 80, "tcp6");
			await lab.serve(c1.ns, "c1udp", 53, "udp4");
			await lab.serve(lab.outside, "out", 7000);
			await lab.serve(lab.outside, "out6", 7000, "tcp6");
			await lab.settle([lab.host, OUTSIDE6], [c1.ns, a.gw6 as string], [c2.ns, a.gw6 as string]);
			const H = lab.host;
			const O = lab.outside;

			// Containers reach the outside, which sees the host's address (masquerade).
			expect(lab.request(c1.ns, OUTSIDE4, 7000)).toEqual({ who: "out/7000", peer: UPLINK4 });
			expect(lab.request(c2.ns, OUTSIDE6, 7000)).toEqual({ who: "out6/7000", peer: UPLINK6 });
			// Within the network the source is kept.
			expect(lab.request(c2.ns, c1.ip4, 80)).toEqual({ who: "c1/80", peer: c2.ip4 });

			// Published ports: from the outside (real source kept) and from the host itself.
			expect(lab.request(O, UPLINK4, 8080)).toEqual({ who: "c1/80", peer: OUTSIDE4 });
			expect(lab.request(O, UPLINK6, 8080)).toEqual({ who: "c1v6/80", peer: OUTSIDE6 });
			expect(lab.request(H, UPLINK4, 8080)).toEqual({ who: "c1/80", peer: UPLINK4 });
			expect(lab.request(H, UPLINK6, 8080)).toEqual({ who: "c1v6/80", peer: UPLINK6 });
			expect(lab.request(O, UPLINK6, 8082)).toEqual({ who: "c1v6/80", peer: OUTSIDE6 });
			expect(lab.request(O, UPLINK4, 8082)).toBeNull(); // 8082 is on one IPv6 address only
			expect(lab.request(O, UPLINK4, 5353, "udp")).toEqual({ who: "c1udp/53", peer: OUTSIDE4 });
			for (const [hp, cp] of [
				[9000, 80],
				[9001, 81],
				[9002, 82],
			] as const) {
				expect(lab.request(O, UPLINK4, hp)?.who).toBe(`c1/${cp}`);
			}
			// 127.0.0.1: DNAT of locally made connections, masqueraded to the gateway.
			expect(lab.request(H, "127.0.0.1", 8080)).toEqual({ who: "c1/80", peer: a.gw4 });
			expect(lab.request(H, "127.0.0.1", 8081)).toEqual({ who: "c1/80", peer: a.gw4 });
			expect(lab.request(O, UPLINK4, 8081)).toBeNull(); // only on 127.0.0.1

			// Hairpin: a container reaches its own and its neighbour's published port.
			expect(lab.request(c1.ns, UPLINK4, 8080)).toEqual({ who: "c1/80", peer: a.gw4 });
			expect(lab.request(c2.ns, UPLINK4, 8080)).toEqual({ who: "c1/80", peer: a.gw4 });
			expect(lab.request(c2.ns, UPLINK6, 8080)).toEqual({ who: "c1v6/80", peer: a.gw6 as string });

			// [::1] is not DNATed (the kernel would drop the reply): refused, and free for a
			// userspace forwarder listening there.
			expect(lab.request(H, "::1", 8080)).toBeNull();
			await lab.serve(H, "forwarder", 8080, "tcp6");
			expect(lab.request(H, "::1", 8080)?.who).toBe("forwarder/8080");

			// c1 leaves: exactly its elements go; c2 and the network stay.
			const before = lab.elements();
			expect(before.filter((e) => e.startsWith("ports"))).toHaveLength(c1Ports.length);
			lab.fw.teardown(a, c1Ports, { lastOnNetwork: false });
			const after = lab.elements();
			expect(after.filter((e) => e.startsWith("ports"))).toEqual([]);
			expect(after).toEqual(before.filter((e) => !e.startsWith("ports")));
			expect(lab.request(H, "127.0.0.1", 8080)).toBeNull();
			expect(lab.request(O, UPLINK4, 8080)).toBeNull();
			expect(lab.request(c2.ns, OUTSIDE4, 7000)).toEqual({ who: "out/7000", peer: UPLINK4 });

			// The last container leaves: nothing of ctrnet is left.
			expect(lab.fw.teardown(a, [], { lastOnNetwork: true })).toEqual({ baseRemoved: true });
			expect(lab.leftovers()).toEqual([]);
		} finally {
			await lab.close();
		}
	});

	test("containers cannot reach the host's loopback services through route_localnet", async () => {
		const lab = new Lab();
		try {
			const a = lab.network(1);
			const c1 = lab.container(a, 2);
			lab.fw.setup(a, []);
			await lab.serve(lab.host, "hostlo", 7100);
			// A container that routes 127.0.0.0/8 to the gateway (it needs route_localnet itself).
			lab.sysctl(c1.ns, "net.ipv4.conf.eth0.route_localnet=1");
			must(["ip", "-n", c1.ns, "route", "add", "127.0.0.77/32", "via", a.gw4, "dev", "eth0"]);
			expect(lab.request(c1.ns, "127.0.0.77", 7100)).toBeNull();
			expect(lab.fw.teardown(a, [], { lastOnNetwork: true }).baseRemoved).toBe(true);
			// Without our table the same request gets through: the test can fail.
			expect(lab.request(c1.ns, "127.0.0.77", 7100)?.who).toBe("hostlo/7100");
			expect(lab.leftovers()).toEqual([]);
		} finally {
			await lab.close();
		}
	});

	test("isolated networks do not reach each other; an internal network does not get out", async () => {
		const lab = new Lab();
		try {
			const a = lab.network(1);
			const b = lab.network(2, { isolate: true });
			const c = lab.network(3, { isolate: true });
			const d = lab.network(4, { internal: true });
			const c1 = lab.container(a, 2);
			const c3 = lab.container(b, 2);
			const c4 = lab.container(c, 2);
			const c5 = lab.container(d, 2);
			const c6 = lab.container(d, 3);
			lab.fw.setup(a, []);
			lab.fw.setup(b, []);
			lab.fw.setup(c, [port(c4.ip4, 8084, 80)]);
			// Ports on an internal network are not published (as netavark).
			lab.fw.setup(d, [port(c5.ip4, 8085, 80)]);
			expect(lab.elements().filter((e) => e.startsWith("ports"))).toHaveLength(1);
			for (const [ctr, name] of [
				[c1, "c1"],
				[c3, "c3"],
				[c4, "c4"],
				[c5, "c5"],
				[c6, "c6"],
			] as const) {
				await lab.serve(ctr.ns, name, 80);
			}
			await lab.serve(lab.outside, "out", 7000);

			// Isolated b and c: not to each other, directly or through a published port.
			expect(lab.request(c3.ns, c4.ip4, 80)).toBeNull();
			expect(lab.request(c4.ns, c3.ip4, 80)).toBeNull();
			expect(lab.request(c3.ns, UPLINK4, 8084)).toBeNull();
			// ...but out, and (netavark's semantics) to and from a network that is not isolated.
			expect(lab.request(c3.ns, OUTSIDE4, 7000)?.who).toBe("out/7000");
			expect(lab.request(c1.ns, c3.ip4, 80)?.who).toBe("c3/80");
			expect(lab.request(c3.ns, c1.ip4, 80)?.who).toBe("c1/80");
			expect(lab.request(lab.outside, UPLINK4, 8084)?.who).toBe("c4/80");

			// Internal d: nothing in or out, but its containers reach each other.
			expect(lab.request(c5.ns, OUTSIDE4, 7000)).toBeNull();
			expect(lab.request(c5.ns, c1.ip4, 80)).toBeNull();
			expect(lab.request(c1.ns, c5.ip4, 80)).toBeNull();
			expect(lab.request(c5.ns, c6.ip4, 80)).toEqual({ who: "c6/80", peer: c5.ip4 });

			// Networks leave one by one; the table goes with the last.
			expect(lab.fw.teardown(d, [port(c5.ip4, 8085, 80)], { lastOnNetwork: true })).toEqual({
				baseRemoved: false,
			});
			expect(lab.elements().join("\n")).not.toContain(d.bridge);
			expect(lab.fw.teardown(b, [], { lastOnNetwork: true }).baseRemoved).toBe(false);
			expect(
				lab.fw.teardown(c, [port(c4.ip4, 8084, 80)], { lastOnNetwork: true }).baseRemoved,
			).toBe(false);
			expect(lab.elements().every((e) => e.includes(a.bridge) || e.includes("10.234.1."))).toBe(
				true,
			);
			expect(lab.fw.teardown(a, [], { lastOnNetwork: true }).baseRemoved).toBe(true);
			expect(lab.leftovers()).toEqual([]);
		} finally {
			await lab.close();
		}
	});

	test("a host whose iptables FORWARD policy is DROP still forwards the containers' traffic", async () => {
		const lab = new Lab();
		try {
			// As Docker leaves a host; iptables here is iptables-nft (table ip/ip6 filter).
			must(["ip", "netns", "exec", lab.host, "iptables", "-P", "FORWARD", "DROP"]);
			must(["ip", "netns", "exec", lab.host, "ip6tables", "-P", "FORWARD", "DROP"]);
			const a = lab.network(1, { v6: true });
			const c1 = lab.container(a, 2);
			const ports = [port(c1.ip4, 8080, 80), port(c1.ip6 as string, 8080, 80)];
			await lab.serve(c1.ns, "c1", 80);
			await lab.serve(c1.ns, "c1v6", 80, "tcp6");
			await lab.serve(lab.outside, "out", 7000);
			await lab.serve(lab.outside, "out6", 7000, "tcp6");
			await lab.settle([lab.host, OUTSIDE6], [c1.ns, a.gw6 as string]);

			// Our table alone (without the FORWARD accommodation) is not enough: the test can fail.
			lab.fw.applyTransaction(`${baseCommands([])}\n${setupCommands(a, ports)}`);
			expect(lab.request(c1.ns, OUTSIDE4, 7000)).toBeNull();
			expect(lab.request(lab.outside, UPLINK4, 8080)).toBeNull();
			lab.fw.wipe();

			lab.fw.setup(a, ports);
			expect(lab.request(c1.ns, OUTSIDE4, 7000)).toEqual({ who: "out/7000", peer: UPLINK4 });
			expect(lab.request(c1.ns, OUTSIDE6, 7000)).toEqual({ who: "out6/7000", peer: UPLINK6 });
			expect(lab.request(lab.outside, UPLINK4, 8080)).toEqual({ who: "c1/80", peer: OUTSIDE4 });
			expect(lab.request(lab.outside, UPLINK6, 8080)).toEqual({ who: "c1v6/80", peer: OUTSIDE6 });

			// iptables still lists its chains cleanly, with our one rule on top.
			for (const tool of ["iptables-save", "ip6tables-save"]) {
				const r = sh(["ip", "netns", "exec", lab.host, tool]);
				expect([r.code, r.err]).toEqual([0, ""]);
				expect(r.out).toContain("-A FORWARD -m mark --mark 0x10000000/0x10000000");
			}
			for (const tool of ["iptables", "ip6tables"]) {
				const r = sh(["ip", "netns", "exec", lab.host, tool, "-S", "FORWARD"]);
				expect(r.code).toBe(0);
				expect(r.err).toBe("");
				expect(r.out.trim().split("\n")).toEqual([
					"-P FORWARD DROP",
					'-A FORWARD -m mark --mark 0x10000000/0x10000000 -m comment --comment "ctrnet: forward what table inet ctrnet accepted (mark 0x10000000)" -j ACCEPT',
				]);
			}
			// A second container's setup does not add a second rule (the fast path adds elements).
			lab.fw.setup(a, [], { container: "c2" });
			expect(
				lab.nft("list", "chain", "ip", "filter", "FORWARD").match(/comment "ctrnet:/g),
			).toHaveLength(1);

			expect(lab.fw.teardown(a, ports, { lastOnNetwork: true }).baseRemoved).toBe(true);
			expect(lab.leftovers()).toEqual([]);
			for (const tool of ["iptables", "ip6tables"]) {
				const r = sh(["ip", "netns", "exec", lab.host, tool, "-S", "FORWARD"]);
				expect([r.code, r.err, r.out.trim()]).toEqual([0, "", "-P FORWARD DROP"]);
			}
		} finally {
			await lab.close();
		}
	});
});
