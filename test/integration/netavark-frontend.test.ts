// The binary as netavark (argv[0] `netavark`), driven the way netavark's own test suite drives
// netavark: a private network + mount namespace stands for the host (the test's "host"), other
// private network namespaces for containers, JSON as podman writes it on stdin. Checks the
// protocol's answers, the state left in the "host" (links, nftables, aardvark-dns), DNS through
// aardvark-dns on another port than 53, rollback of a failed setup, and 100 concurrent calls.
// Nothing here touches the real host's network; every namespace and process is the test's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { networkHash } from "../../src/firewall/iptables/layout";
import { BIN, have, requireBinary } from "../lib/cli";
import { aardvarksServing, sh, waitUnshared } from "../lib/host";
import { helperDir, removeDir } from "../lib/podman";

const ok = have(["unshare", "nsenter", "ip", "nft", "dig", "busybox"], true);
const AARDVARK = "/usr/lib/podman/aardvark-dns";

let helpers = "";
let nvBin = "";
let work = "";
const procs: ReturnType<typeof Bun.spawn>[] = [];

/** A sleeping process in new namespaces (`-n`, or `-nm` for a "host"); its pid. */
function holder(flags: string): number {
	const p = Bun.spawn(["unshare", flags, "--propagation", "private", "sleep", "3600"], {
		stdio: ["ignore", "ignore", "ignore"],
	});
	procs.push(p);
	return p.pid;
}

async function settled(pid: number): Promise<void> {
	if (!(await waitUnshared(pid, 2000, 5))) throw new Error(`process ${pid} did not unshare`);
}

type Driver = "nftables" | "iptables";
const DRIVERS: Driver[] = ["nftables", "iptables"];

/** netavark's chains and rules that stay after its last network goes (its own suite checks it). */
const NETAVARK_BASE: Record<string, string[]> = {
	filter: [
		"-N NETAVARK_FORWARD",
		'-A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD',
	],
	nat: [
		"-N NETAVARK-HOSTPORT-DNAT",
		"-N NETAVARK-HOSTPORT-MASQ",
		"-N NETAVARK-HOSTPORT-SETMARK",
		"-A PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT",
		"-A OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT",
		"-A POSTROUTING -j NETAVARK-HOSTPORT-MASQ",
		'-A NETAVARK-HOSTPORT-MASQ -m comment --comment "netavark portfw masq mark" -m mark --mark 0x2000/0x2000 -j MASQUERADE',
		"-A NETAVARK-HOSTPORT-SETMARK -j MARK --set-xmark 0x2000/0x2000",
	],
};

class Host {
	constructor(
		readonly pid: number,
		readonly fw: Driver,
	) {}
	static async make(fw: Driver = "nftables"): Promise<Host> {
		const h = new Host(holder("-nm"), fw);
		await settled(h.pid);
		h.sh(["ip", "link", "set", "lo", "up"]);
		return h;
	}
	sh(cmd: string[], stdin?: string) {
		return sh(["nsenter", "-n", "-m", "-t", String(this.pid), ...cmd], { stdin });
	}
	/** The binary as netavark, in this "host"; stdout, stderr, exit code. */
	async nv(args: string[], stdin: string, env: Record<string, string> = {}) {
		const p = Bun.spawn(["nsenter", "-n", "-m", "-t", String(this.pid), nvBin, ...args], {
			env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", NETAVARK_FW: this.fw, ...env },
			stdin: new TextEncoder().encode(stdin),
			stdout: "pipe",
			stderr: "pipe",
		});
		const [out, err, code] = await Promise.all([
			new Response(p.stdout).text(),
			new Response(p.stderr).text(),
			p.exited,
		]);
		return { out, err, code };
	}
	links(): string[] {
		return this.sh(["ip", "-o", "link", "show"])
			.out.split("\n")
			.filter(Boolean)
			.map((l) => (l.split(": ")[1] ?? "").split("@")[0] as string);
	}
	table(): string {
		return this.sh(["nft", "list", "table", "inet", "ctrnet"]).out;
	}
	/** iptables -S of a family's table, without the built-in chains' policies. */
	iptables(family: 4 | 6, table: string): string[] {
		return this.sh([family === 4 ? "iptables" : "ip6tables", "-t", table, "-S"])
			.out.split("\n")
			.filter((l) => l && !l.startsWith("-P "));
	}
	/**
	 * Nothing of any container or network is left in the firewall: with nftables no table at all,
	 * with iptables at most netavark's lasting base (as netavark leaves it).
	 */
	firewallIsClean(): void {
		if (this.fw === "nftables") {
			expect(this.sh(["nft", "list", "tables"]).out.trim()).toBe("");
			return;
		}
		expect(this.sh(["nft", "list", "table", "inet", "ctrnet"]).code).not.toBe(0);
		for (const family of [4, 6] as const) {
			for (const table of ["filter", "nat"]) {
				const left = this.iptables(family, table);
				if (left.length > 0) expect(left).toEqual(NETAVARK_BASE[table] as string[]);
			}
		}
	}
}

class Ctr {
	readonly path: string;
	constructor(readonly pid: number) {
		this.path = `/proc/${pid}/ns/net`;
	}
	static async make(): Promise<Ctr> {
		const c = new Ctr(holder("-n"));
		await settled(c.pid);
		return c;
	}
	sh(cmd: string[]) {
		return sh(["nsenter", "-n", "-t", String(this.pid), ...cmd]);
	}
	iface(name: string): { mac: string; addrs: string[] } | undefined {
		const r = this.sh(["ip", "-j", "addr", "show", name]);
		if (r.code !== 0) return undefined;
		const [l] = JSON.parse(r.out);
		return {
			mac: l.address,
			addrs: l.addr_info
				.filter((a: { scope: string }) => a.scope === "global")
				.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`),
		};
	}
}

const hex = (s: string) => Buffer.from(s).toString("hex").padEnd(64, "0").slice(0, 64);

interface NetSpec {
	name: string;
	bridge: string;
	subnets: { subnet: string; gateway: string }[];
	dns?: boolean;
	internal?: boolean;
}

function options(
	id: string,
	nets: { net: NetSpec; ifname: string; ips: string[]; aliases?: string[]; mac?: string }[],
	ports: { host_ip?: string; host_port: number; container_port: number; protocol?: string }[] = [],
): string {
	return JSON.stringify({
		container_id: hex(id),
		container_name: id,
		...(ports.length
			? {
					port_mappings: ports.map((p) => ({
						host_ip: p.host_ip ?? "",
						container_port: p.container_port,
						host_port: p.host_port,
						range: 1,
						protocol: p.protocol ?? "tcp",
					})),
				}
			: {}),
		networks: Object.fromEntries(
			nets.map((n) => [
				n.net.name,
				{
					static_ips: n.ips,
					interface_name: n.ifname,
					aliases: n.aliases ?? [hex(id).slice(0, 12)],
					...(n.mac ? { static_mac: n.mac } : {}),
				},
			]),
		),
		network_info: Object.fromEntries(
			nets.map((n) => [
				n.net.name,
				{
					name: n.net.name,
					id: hex(n.net.name),
					driver: "bridge",
					network_interface: n.net.bridge,
					created: "2026-11-30T04:33:41.224006302Z",
					subnets: n.net.subnets,
					ipv6_enabled: n.net.subnets.some((s) => s.subnet.includes(":")),
					internal: n.net.internal ?? false,
					dns_enabled: n.net.dns ?? false,
					ipam_options: { driver: "host-local" },
				},
			]),
		),
	});
}

const NET_A: NetSpec = {
	name: "tnv-fa",
	bridge: "tnvfa0",
	subnets: [
		{ subnet: "10.240.21.0/24", gateway: "10.240.21.1" },
		{ subnet: "fd40:21::/64", gateway: "fd40:21::1" },
	],
};
const NET_B: NetSpec = {
	name: "tnv-fb",
	bridge: "tnvfb0",
	subnets: [{ subnet: "10.240.22.0/24", gateway: "10.240.22.1" }],
	dns: true,
};

const aardvarkIn = (config: string) => aardvarksServing(`${config}/aardvark-dns`);

describe.skipIf(!ok)("ctrnet as netavark 1.4 (private namespaces)", () => {
	beforeAll(() => {
		requireBinary();
		helpers = helperDir(["netavark"]);
		nvBin = `${helpers}/netavark`;
		work = mkdtempSync("/tmp/tnv-front-");
		mkdirSync(`${work}/www`);
		writeFileSync(`${work}/www/index.html`, "hello\n");
	});

	afterAll(() => {
		for (const p of procs) p.kill();
		for (const pid of aardvarksServing(`${work}/`)) process.kill(pid);
		removeDir(helpers);
		rmSync(work, { recursive: true, force: true });
	});

	test("argv[0] `netavark` and `ctrnet netavark`: version, errors as netavark gives them", async () => {
		const h = await Host.make();
		expect((await h.nv(["--version"], "")).out).toStartWith("netavark 1.4.0");
		const v = sh([BIN, "netavark", "version"]);
		expect(JSON.parse(v.out)).toMatchObject({ version: "1.4.0", target: expect.any(String) });
		const bad = await h.nv(
			["--config", work, "setup", "/nonexistent/ns"],
			options("x", [{ net: NET_A, ifname: "eth0", ips: ["10.240.21.2", "fd40:21::2"] }]),
		);
		expect(bad.code).toBe(1);
		expect(bad.out).toBe(
			'{"error":"invalid namespace path: IO error: No such file or directory (os error 2)"}\n',
		);
		const c = await Ctr.make();
		const junk = await h.nv(["--config", work, "setup", c.path], "{");
		expect(junk.code).toBe(1);
		expect(Object.keys(JSON.parse(junk.out))).toEqual(["error"]);
		expect((await h.nv(["bogus"], "")).code).toBe(2);
		expect(h.links()).toEqual(["lo"]);
	});

	test("[iptables] an sctp port is refused before anything is made", async () => {
		const h = await Host.make("iptables");
		const c = await Ctr.make();
		const json = options(
			"sctp",
			[{ net: NET_A, ifname: "eth0", ips: ["10.240.21.9"] }],
			[{ host_port: 31998, container_port: 80, protocol: "sctp" }],
		);
		const r = await h.nv(["--config", `${work}/c6`, "setup", c.path], json);
		expect(r.code).toBe(1);
		expect(JSON.parse(r.out)).toEqual({
			error:
				"sctp port 31998: the iptables firewall driver forwards tcp and udp only (NETAVARK_FW=nftables forwards sctp)",
		});
		expect(h.links()).toEqual(["lo"]);
		expect(c.iface("eth0")).toBeUndefined();
		expect(h.sh(["nft", "list", "tables"]).out.trim()).toBe("");
	});

	test("a container set up under ctrnet's table (the earlier default) is torn down whole under the iptables driver", async () => {
		const h = await Host.make("nftables");
		const c = await Ctr.make();
		const config = `${work}/c7`;
		const json = options(
			"upgrade",
			[{ net: NET_A, ifname: "eth0", ips: ["10.240.21.8", "fd40:21::8"] }],
			[{ host_port: 31997, container_port: 80 }],
		);
		const r = await h.nv(["--config", config, "setup", c.path], json);
		expect(r.out).not.toContain("error");
		expect(h.table()).toContain("31997");
		const t = await h.nv(["--config", config, "teardown", c.path], json, {
			NETAVARK_FW: "iptables",
		});
		expect(t).toEqual({ out: "", err: "", code: 0 });
		expect(h.links()).toEqual(["lo"]);
		expect(h.sh(["nft", "list", "table", "inet", "ctrnet"]).code).not.toBe(0);
	});

	for (const fw of DRIVERS) {
		test(`[${fw}] setup answers one key per network (ipnet with the subnet's prefix, the real MAC); teardown leaves the host as before`, async () => {
			const h = await Host.make(fw);
			const c = await Ctr.make();
			const config = `${work}/c2-${fw}`;
			const port = 30000 + Math.floor(Math.random() * 10000);
			const json = options(
				"two",
				[
					{
						net: NET_A,
						ifname: "eth0",
						ips: ["10.240.21.5", "fd40:21::5"],
						mac: "02:40:21:00:00:05",
					},
					{ net: NET_B, ifname: "eth1", ips: ["10.240.22.5"] },
				],
				[{ host_port: port, container_port: 8080 }],
			);
			const r = await h.nv(
				["--config", config, `--aardvark-binary=${AARDVARK}`, "setup", c.path],
				json,
			);
			expect(r.err).toBe("");
			expect(r.code).toBe(0);
			const out = JSON.parse(r.out);
			expect(Object.keys(out)).toEqual(["tnv-fa", "tnv-fb"]);
			expect(out["tnv-fa"]).toEqual({
				dns_search_domains: [],
				dns_server_ips: [],
				interfaces: {
					eth0: {
						mac_address: "02:40:21:00:00:05",
						subnets: [
							{ gateway: "10.240.21.1", ipnet: "10.240.21.5/24" },
							{ gateway: "fd40:21::1", ipnet: "fd40:21::5/64" },
						],
					},
				},
			});
			const eth1 = c.iface("eth1");
			expect(out["tnv-fb"]).toEqual({
				dns_search_domains: ["dns.podman"],
				dns_server_ips: ["10.240.22.1"],
				interfaces: {
					eth1: {
						mac_address: eth1?.mac,
						subnets: [{ gateway: "10.240.22.1", ipnet: "10.240.22.5/24" }],
					},
				},
			});
			expect(c.iface("eth0")).toEqual({
				mac: "02:40:21:00:00:05",
				addrs: ["10.240.21.5/24", "fd40:21::5/64"],
			});
			expect(eth1?.addrs).toEqual(["10.240.22.5/24"]);
			if (fw === "nftables") {
				// The published port goes to the first network (by name); a page through it.
				expect(h.table()).toContain(
					`tcp . ${port} comment "two on network tnv-fa" : 10.240.21.5 . 8080`,
				);
			} else {
				// netavark's layout: the port on both networks, in each network's own DNAT chain (the
				// first network set up wins); IPv4 and IPv6 alike.
				for (const [net, ip] of [
					["tnv-fa", "10.240.21.5"],
					["tnv-fb", "10.240.22.5"],
				]) {
					const dn = `NETAVARK-DN-${networkHash(net as string)}`;
					expect(h.iptables(4, "nat")).toContain(
						`-A ${dn} -p tcp -m tcp --dport ${port} -j DNAT --to-destination ${ip}:8080`,
					);
					expect(h.iptables(4, "nat")).toContain(
						`-A NETAVARK-HOSTPORT-DNAT -p tcp -m tcp --dport ${port} -m comment --comment "dnat name: ${net} id: ${hex("two")}" -j ${dn}`,
					);
				}
				expect(h.iptables(6, "nat")).toContain(
					`-A NETAVARK-DN-${networkHash("tnv-fa")} -p tcp -m tcp --dport ${port} -j DNAT --to-destination [fd40:21::5]:8080`,
				);
				expect(h.iptables(4, "filter")).toContain(
					"-A NETAVARK_FORWARD -s 10.240.22.0/24 -j ACCEPT",
				);
			}
			const web = Bun.spawn(
				[
					"nsenter",
					"-n",
					"-t",
					String(c.pid),
					"busybox",
					"httpd",
					"-f",
					"-p",
					"8080",
					"-h",
					`${work}/www`,
				],
				{ stdio: ["ignore", "ignore", "ignore"] },
			);
			procs.push(web);
			let code = -1;
			for (let i = 0; i < 40 && code !== 0; i++) {
				code = h.sh([
					"busybox",
					"wget",
					"-q",
					"-O",
					"/dev/null",
					`http://10.240.21.1:${port}/`,
				]).code;
				if (code !== 0) await Bun.sleep(50);
			}
			expect(code).toBe(0);
			web.kill();
			expect(aardvarkIn(config)).toHaveLength(1);
			const t = await h.nv(
				["--config", config, `--aardvark-binary=${AARDVARK}`, "teardown", c.path],
				json,
			);
			expect(t).toEqual({ out: "", err: "", code: 0 });
			expect(h.links()).toEqual(["lo"]);
			h.firewallIsClean();
			expect(c.iface("eth0")).toBeUndefined();
			expect(c.iface("eth1")).toBeUndefined();
			expect(aardvarkIn(config)).toEqual([]);
			expect(existsSync(`${config}/aardvark-dns/tnv-fb`)).toBe(false);
			// Teardown again: nothing left to do is not an error.
			expect((await h.nv(["--config", config, "teardown", c.path], json)).code).toBe(0);
		});
	}

	for (const fw of DRIVERS) {
		test(`[${fw}] a failed setup leaves nothing: the first network's veth, bridge, firewall and DNS are undone`, async () => {
			const h = await Host.make(fw);
			const c = await Ctr.make();
			c.sh(["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "tnvpeer"]);
			const config = `${work}/c3-${fw}`;
			const json = options(
				"fails",
				[
					{ net: { ...NET_B, name: "tnv-fa-dns" }, ifname: "eth0", ips: ["10.240.22.7"] },
					{
						net: { ...NET_A, name: "tnv-fb-taken" },
						ifname: "eth1",
						ips: ["10.240.21.7", "fd40:21::7"],
					},
				],
				[{ host_port: 31999, container_port: 80 }],
			);
			const r = await h.nv(
				["--config", config, `--aardvark-binary=${AARDVARK}`, "setup", c.path],
				json,
			);
			expect(r.code).toBe(1);
			expect(JSON.parse(r.out)).toEqual({
				error:
					"create veth pair: interface eth1 already exists on container namespace: Netlink error: File exists (os error 17)",
			});
			expect(h.links()).toEqual(["lo"]);
			h.firewallIsClean();
			expect(c.iface("eth0")).toBeUndefined();
			expect(aardvarkIn(config)).toEqual([]);
			// DNS is the last step: an aardvark-dns that cannot start undoes the networks too.
			const dnsOnly = options("fails-dns", [{ net: NET_B, ifname: "eth0", ips: ["10.240.22.8"] }]);
			const d = await h.nv(
				["--config", config, "--aardvark-binary=/bin/false", "setup", c.path],
				dnsOnly,
			);
			expect(d.code).toBe(1);
			expect(JSON.parse(d.out).error).toStartWith("IO error: Error while applying dns entries: ");
			expect(h.links()).toEqual(["lo"]);
			h.firewallIsClean();
			expect(c.iface("eth0")).toBeUndefined();
			expect(existsSync(`${config}/aardvark-dns/${NET_B.name}`)).toBe(false);
		});
	}

	for (const fw of DRIVERS) {
		test(`[${fw}] DNS through aardvark-dns on NETAVARK_DNS_PORT: names and aliases resolve at the gateway's port 53, SIGHUP on change, stopped after the last`, async () => {
			const h = await Host.make(fw);
			const [c1, c2] = [await Ctr.make(), await Ctr.make()];
			const config = `${work}/c4-${fw}`;
			const env = { NETAVARK_DNS_PORT: String(20000 + Math.floor(Math.random() * 10000)) };
			const net: NetSpec = {
				...NET_B,
				subnets: [...NET_B.subnets, { subnet: "fd40:22::/64", gateway: "fd40:22::1" }],
			};
			const j1 = options("dns-one", [
				{ net, ifname: "eth0", ips: ["10.240.22.11", "fd40:22::11"], aliases: ["tnvalias"] },
			]);
			const j2 = options("dns-two", [
				{ net, ifname: "eth0", ips: ["10.240.22.12", "fd40:22::12"] },
			]);
			const args = (cmd: string, c: Ctr) => [
				"--config",
				config,
				`--aardvark-binary=${AARDVARK}`,
				cmd,
				c.path,
			];
			expect((await h.nv(args("setup", c1), j1, env)).code).toBe(0);
			const [pid] = aardvarkIn(config);
			expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain(
				env.NETAVARK_DNS_PORT,
			);
			expect(readFileSync(`${config}/aardvark-dns/${net.name}`, "utf8")).toBe(
				`10.240.22.1,fd40:22::1\n${hex("dns-one")} 10.240.22.11 fd40:22::11 dns-one,tnvalias\n`,
			);
			expect((await h.nv(args("setup", c2), j2, env)).code).toBe(0);
			expect(aardvarkIn(config)).toEqual([pid as number]); // told with SIGHUP, not restarted
			const ask = (c: Ctr, name: string, server: string, type = "A") =>
				c
					.sh(["dig", "+short", "+time=2", "+tries=2", `@${server}`, "-p", "53", name, type])
					.out.trim();
			expect(ask(c2, "dns-one.dns.podman", "10.240.22.1")).toBe("10.240.22.11");
			expect(ask(c2, "tnvalias.dns.podman", "10.240.22.1")).toBe("10.240.22.11");
			expect(ask(c1, "dns-two.dns.podman", "fd40:22::1", "AAAA")).toBe("fd40:22::12");
			expect((await h.nv(args("teardown", c1), j1, env)).code).toBe(0);
			expect(aardvarkIn(config)).toEqual([pid as number]);
			expect(ask(c2, "dns-one.dns.podman", "10.240.22.1")).toBe("");
			expect((await h.nv(args("teardown", c2), j2, env)).code).toBe(0);
			expect(aardvarkIn(config)).toEqual([]);
			expect(existsSync(`${config}/aardvark-dns/${net.name}`)).toBe(false);
			h.firewallIsClean();
		});
	}

	for (const fw of DRIVERS) {
		test(`[${fw}] 100 setups at once, then 100 teardowns at once, without any lock: all succeed, nothing is left`, async () => {
			const h = await Host.make(fw);
			const config = `${work}/c5-${fw}`;
			const n = 100;
			const ctrs = await Promise.all(Array.from({ length: n }, () => Ctr.make()));
			const jsons = ctrs.map((_, k) =>
				options(
					`many-${k}-${randomBytes(2).toString("hex")}`,
					[
						{
							net: NET_A,
							ifname: "eth0",
							ips: [`10.240.21.${10 + k}`, `fd40:21::${(10 + k).toString(16)}`],
						},
					],
					[{ host_port: 21000 + k, container_port: 80 }],
				),
			);
			const all = (cmd: string) =>
				Promise.all(
					ctrs.map((c, k) => h.nv(["--config", config, cmd, c.path], jsons[k] as string)),
				);
			const setups = await all("setup");
			expect(setups.filter((r) => r.code !== 0).map((r) => r.out)).toEqual([]);
			expect(
				h.sh(["ip", "-o", "link", "show", "master", NET_A.bridge]).out.trim().split("\n"),
			).toHaveLength(n);
			if (fw === "nftables") expect(h.table().match(/: 10\.240\.21\.\d+ \. 80/g)).toHaveLength(n);
			else {
				const dnat = h
					.iptables(4, "nat")
					.filter((l) => /--to-destination 10\.240\.21\.\d+:80$/.test(l));
				expect(new Set(dnat).size).toBe(n);
				expect(h.iptables(6, "nat").filter((l) => l.includes("-j DNAT"))).toHaveLength(n);
			}
			const teardowns = await all("teardown");
			expect(teardowns.filter((r) => r.code !== 0).map((r) => r.out)).toEqual([]);
			expect(h.links()).toEqual(["lo"]);
			h.firewallIsClean();
			for (const c of ctrs) expect(c.iface("eth0")).toBeUndefined();
		});
	}
});
