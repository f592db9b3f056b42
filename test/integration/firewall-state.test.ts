// The native backend's firewall state, without traffic: what each setup and teardown leaves in
// the kernel, idempotent and exact teardown, clashes, the table's life across networks, and
// several processes at once. Every test works in its own network namespace tfw-<random>-s that
// plays the host (so its iptables policy and ruleset are the test's own) and removes it.
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConflictError, UsageError } from "../../src/errors";
import { type Firewall, type FwNetwork, type FwPort, openFirewall } from "../../src/firewall";
import { legacyFilterLoaded } from "../../src/host/facts";
import { have } from "../lib/cli";
import { must, sh } from "../lib/host";

const ok = have(["ip", "nft", "iptables", "ip6tables", "iptables-legacy"], true);

const LEGACY = "/proc/thread-self/net/ip_tables_names";

class Host {
	readonly name = `tfw-${randomBytes(2).toString("hex")}-s`;
	readonly path = `/run/netns/${this.name}`;
	readonly firewalls: Firewall[] = [];

	constructor() {
		must(["ip", "netns", "add", this.name]);
	}

	firewall(): Firewall {
		const fw = openFirewall(this.path);
		this.firewalls.push(fw);
		return fw;
	}

	run(...cmd: string[]): { code: number; out: string; err: string } {
		return sh(["ip", "netns", "exec", this.name, ...cmd]);
	}

	/** Every element of our table as "<set> <element JSON>", sorted; [] without the table. */
	elements(): string[] {
		const r = this.run("nft", "-j", "list", "table", "inet", "ctrnet");
		if (r.code !== 0) return [];
		const doc = JSON.parse(r.out) as {
			nftables: Record<string, { name?: string; elem?: unknown[] }>[];
		};
		return doc.nftables
			.flatMap((o) => {
				const s = o.set ?? o.map;
				return s?.elem ? s.elem.map((e) => `${s.name} ${JSON.stringify(e)}`) : [];
			})
			.sort();
	}

	/** Lines of the whole ruleset that are ctrnet's (tables, our iptables FORWARD rule). */
	leftovers(): string[] {
		return must(["ip", "netns", "exec", this.name, "nft", "list", "ruleset"])
			.split("\n")
			.filter((l) => /ctrnet|0x10000000/.test(l));
	}

	close() {
		for (const fw of this.firewalls) fw.close();
		must(["ip", "netns", "del", this.name]);
		expect(sh(["ip", "netns", "list"]).out).not.toContain(this.name);
	}
}

const netA: FwNetwork = {
	name: "tfw-a",
	bridge: "tfw-bra",
	subnets: ["10.234.1.0/24", "fd34:1::/64"],
	internal: false,
	isolate: false,
};
const netB: FwNetwork = {
	name: "tfw-b",
	bridge: "tfw-brb",
	subnets: ["10.234.2.0/24"],
	internal: false,
	isolate: true,
};

const p = (containerIP: string, hostPort: number, more: Partial<FwPort> = {}): FwPort => ({
	hostIP: "",
	protocol: "tcp",
	containerIP,
	hostPort,
	containerPort: 80,
	...more,
});

const c1Ports = [
	p("10.234.1.2", 8080),
	p("fd34:1::2", 8080),
	p("10.234.1.2", 8081, { hostIP: "127.0.0.1" }),
	p("10.234.1.2", 5353, { protocol: "udp", containerPort: 53 }),
	p("fd34:1::2", 8443, { hostIP: "fd34:ff::1", containerPort: 443 }),
];
const c2Ports = [p("10.234.1.3", 9090), p("10.234.1.3", 9091, { protocol: "sctp" })];

describe.if(ok)("native firewall state", () => {
	test("teardown removes exactly one container's elements, and can run again", () => {
		const host = new Host();
		try {
			const fw = host.firewall();
			fw.setup(netA, [], { container: "c0" });
			const network = host.elements();
			expect(network.length).toBeGreaterThan(0);
			fw.setup(netA, c2Ports, { container: "c2" });
			const withC2 = host.elements();
			expect(withC2.length).toBe(network.length + c2Ports.length);
			fw.setup(netA, c1Ports, { container: "c1" });
			expect(host.elements().length).toBe(withC2.length + c1Ports.length);
			// sctp needs no kernel module to be an element (this kernel has no sctp).
			expect(host.elements().join("\n")).toContain('"sctp",9091');

			expect(fw.teardown(netA, c1Ports, { lastOnNetwork: false })).toEqual({ baseRemoved: false });
			expect(host.elements()).toEqual(withC2);
			expect(fw.teardown(netA, c1Ports, { lastOnNetwork: false })).toEqual({ baseRemoved: false });
			expect(host.elements()).toEqual(withC2);

			expect(fw.teardown(netA, c2Ports, { lastOnNetwork: true })).toEqual({ baseRemoved: true });
			expect(host.leftovers()).toEqual([]);
			// Again, with the table gone: nothing to do, no error.
			expect(fw.teardown(netA, c2Ports, { lastOnNetwork: true })).toEqual({ baseRemoved: true });
			expect(host.leftovers()).toEqual([]);
		} finally {
			host.close();
		}
	});

	test("a host port now published by another container is left to it", () => {
		const host = new Host();
		try {
			const fw = host.firewall();
			fw.setup(netA, c1Ports, { container: "c1" });
			// c1's 8080 element vanished (say, removed by hand) and c2 now publishes 8080.
			must([
				"ip",
				"netns",
				"exec",
				host.name,
				"nft",
				"delete element inet ctrnet ports4_any { tcp . 8080 }",
			]);
			const c2 = [p("10.234.1.3", 8080)];
			fw.setup(netA, c2, { container: "c2" });
			fw.setup(netA, [], { container: "c0" });
			const expected = host.elements().filter((e) => !/"10\.234\.1\.2"|"fd34:1::2"/.test(e));
			fw.teardown(netA, c1Ports, { lastOnNetwork: false });
			expect(host.elements()).toEqual(expected);
			expect(host.elements().join("\n")).toContain('"10.234.1.3",80');
			fw.teardown(netA, c2, { lastOnNetwork: true });
			expect(host.leftovers()).toEqual([]);
		} finally {
			host.close();
		}
	});

	test("publishing a host port that is taken is a ConflictError and changes nothing", () => {
		const host = new Host();
		try {
			const fw = host.firewall();
			fw.setup(netA, c1Ports, { container: "c1" });
			const before = host.elements();
			const clash = [p("10.234.1.3", 9999), p("10.234.1.3", 8080)];
			expect(() => fw.setup(netA, clash, { container: "c2" })).toThrow(ConflictError);
			expect(() => fw.setup(netA, clash, { container: "c2" })).toThrow(
				"tcp port 8080 on every IPv4 address is already published to 10.234.1.2 port 80",
			);
			expect(host.elements()).toEqual(before);
			// The same mapping again is no clash (a repeated setup of the same container).
			fw.setup(netA, c1Ports, { container: "c1" });
			expect(host.elements()).toEqual(before);
			fw.teardown(netA, c1Ports, { lastOnNetwork: true });
			expect(host.leftovers()).toEqual([]);
		} finally {
			host.close();
		}
	});

	test("bad input is a UsageError before anything is changed", () => {
		const host = new Host();
		try {
			const fw = host.firewall();
			const cases: [FwNetwork, FwPort[]][] = [
				[{ ...netA, bridge: 'x"; flush ruleset' }, []],
				[{ ...netA, subnets: ["10.234.1.0/33"] }, []],
				[netA, [p("10.234.1.2", 8080, { hostIP: "::1" })]],
				[netA, [p("fd34:1::2", 8080, { hostIP: "10.234.255.1" })]],
				[netA, [p("fd34:1::2", 8080, { hostIP: "0.0.0.0" })]],
				[netA, [p("10.234.1.2", 8080), p("10.234.1.3", 8080)]],
			];
			for (const [net, ports] of cases) expect(() => fw.setup(net, ports)).toThrow(UsageError);
			expect(host.leftovers()).toEqual([]);
			expect(() => openFirewall(host.path, { library: "libnftables-tfw-missing.so.9" })).toThrow(
				/needs libnftables-tfw-missing\.so\.9 \(Debian\/Ubuntu package libnftables1\)/,
			);
		} finally {
			host.close();
		}
	});

	test("the table stays while another network has elements, across contexts", () => {
		const host = new Host();
		try {
			must(["ip", "netns", "exec", host.name, "iptables", "-P", "FORWARD", "DROP"]);
			const fw1 = host.firewall();
			const fw2 = host.firewall();
			fw1.setup(netA, c1Ports, { container: "c1" });
			fw2.setup(netB, [p("10.234.2.2", 7070)], { container: "c3" });
			const onlyB = host.elements().filter((e) => !e.includes("tfw-a") && !e.includes("tfw-bra"));
			expect(fw1.teardown(netA, c1Ports, { lastOnNetwork: true })).toEqual({ baseRemoved: false });
			expect(host.elements()).toEqual(onlyB);
			expect(host.run("iptables", "-S", "FORWARD").out).toContain("ctrnet");
			expect(fw2.teardown(netB, [p("10.234.2.2", 7070)], { lastOnNetwork: true })).toEqual({
				baseRemoved: true,
			});
			expect(host.leftovers()).toEqual([]);
			expect(host.run("iptables", "-S", "FORWARD").out.trim()).toBe("-P FORWARD DROP");
		} finally {
			host.close();
		}
	});

	test("wipe removes everything, also our rule when the table is already gone", () => {
		const host = new Host();
		try {
			must(["ip", "netns", "exec", host.name, "iptables", "-P", "FORWARD", "DROP"]);
			must(["ip", "netns", "exec", host.name, "ip6tables", "-P", "FORWARD", "DROP"]);
			const fw = host.firewall();
			fw.setup(netA, c1Ports);
			expect(host.leftovers().length).toBeGreaterThan(0);
			fw.wipe();
			expect(host.leftovers()).toEqual([]);
			fw.setup(netA, c1Ports);
			must(["ip", "netns", "exec", host.name, "nft", "delete table inet ctrnet"]);
			expect(host.leftovers().length).toBe(2); // our rule in ip and ip6 filter FORWARD
			fw.wipe();
			fw.wipe();
			expect(host.leftovers()).toEqual([]);
			for (const tool of ["iptables", "ip6tables"]) {
				expect(host.run(tool, "-S", "FORWARD").out.trim()).toBe("-P FORWARD DROP");
			}
		} finally {
			host.close();
		}
	});

	test("a legacy iptables filter table (which nftables cannot override) is detected", () => {
		const host = new Host();
		try {
			const ns = host.path;
			expect(legacyFilterLoaded(ns)).toBe(false);
			must(["ip", "netns", "exec", host.name, "iptables", "-P", "FORWARD", "DROP"]); // iptables-nft
			expect(legacyFilterLoaded(ns)).toBe(false);
			must(["ip", "netns", "exec", host.name, "iptables-legacy", "-P", "FORWARD", "DROP"]);
			expect(legacyFilterLoaded(ns)).toBe(true);
			// The namespace we run in is not the one looked at.
			const names = existsSync(LEGACY) ? readFileSync(LEGACY, "utf8") : "";
			expect(legacyFilterLoaded()).toBe(names.split("\n").includes("filter"));
		} finally {
			host.close();
		}
	});

	test("eight processes set up and tear down networks at once; nothing is left", async () => {
		const host = new Host();
		try {
			must(["ip", "netns", "exec", host.name, "iptables", "-P", "FORWARD", "DROP"]);
			const firewall = resolve(import.meta.dir, "../../src/firewall/index.ts");
			// Each child: setup of its own network (all racing to create the table), then
			// teardown as the network's last container (racing to remove it).
			const child = (n: number) => `
				import { openFirewall } from ${JSON.stringify(firewall)};
				const fw = openFirewall(${JSON.stringify(host.path)});
				const net = { name: "tfw-p${n}", bridge: "tfw-p${n}", subnets: ["10.234.${10 + n}.0/24"], internal: false, isolate: ${n % 2 === 0} };
				const ports = [{ hostIP: "", hostPort: ${7000 + n}, containerPort: 80, protocol: "tcp", containerIP: "10.234.${10 + n}.2" }];
				fw.setup(net, ports);
				await Bun.sleep(${n * 7});
				const { baseRemoved } = fw.teardown(net, ports, { lastOnNetwork: true });
				console.log(baseRemoved);
			`;
			const procs = Array.from({ length: 8 }, (_, n) =>
				Bun.spawn([process.execPath, "-e", child(n)], { stdout: "pipe", stderr: "pipe" }),
			);
			const results = await Promise.all(
				procs.map(async (pr) => ({
					code: await pr.exited,
					out: (await new Response(pr.stdout).text()).trim(),
					err: await new Response(pr.stderr).text(),
				})),
			);
			for (const r of results) expect([r.code, r.err]).toEqual([0, ""]);
			// At least the last one out removed the table; nothing of ctrnet remains.
			expect(results.some((r) => r.out === "true")).toBe(true);
			expect(host.leftovers()).toEqual([]);
			expect(host.run("iptables", "-S", "FORWARD").out.trim()).toBe("-P FORWARD DROP");
		} finally {
			host.close();
		}
	});
});
