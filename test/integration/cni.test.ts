// The CNI runtime against Debian's real plugins: ADD/CHECK/DEL into a test netns at every list
// version, rollback of a failing list, DEL from the cache after the conflist is gone, STATUS/GC.
// Names start with t4-, subnets are in 10.214.0.0/16; only our own leftovers are checked.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { Cni, findNetwork, PluginError } from "../../src/cni";
import { BIN, ctrnet, have, requireBinary } from "../lib/cli";
import { shAll as sh } from "../lib/host";

beforeAll(requireBinary);
// Real plugins on a loaded machine (other suites run at the same time): 5 s is not enough.
setDefaultTimeout(60_000);

const FIXTURE_PLUGINS = resolve(import.meta.dir, "../fixtures/cni-plugins");
const PODMAN_CONFLIST = resolve(
	import.meta.dir,
	"../fixtures/cni-configs/87-podman-bridge.conflist",
);
const ROOT = have(["ip", "iptables", "bash"], true) && existsSync("/usr/lib/cni/bridge");
const tmpDirs: string[] = [];
const cleanups: (() => void)[] = [];

afterAll(() => {
	for (const c of cleanups.reverse()) c();
	for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

const rand = () => Math.random().toString(36).slice(2, 8);

function tmp(prefix: string): string {
	const d = mkdtempSync(`${tmpdir()}/${prefix}`);
	tmpDirs.push(d);
	return d;
}

/** A fresh netns, removed at the end. */
function netns(): { name: string; path: string } {
	const name = `t4-${rand()}`;
	expect(sh(["ip", "netns", "add", name]).code).toBe(0);
	cleanups.push(() => sh(["ip", "netns", "del", name]));
	return { name, path: `/run/netns/${name}` };
}

let subnetCounter = 100 + Math.floor(Math.random() * 50);

interface Net {
	name: string;
	bridge: string;
	subnet: string;
	prefix: string;
	confDir: string;
	cacheDir: string;
	file: string;
}

/**
 * A podman-v2-style list (bridge, portmap, firewall, tuning) at `version` (without firewall at
 * 0.3.1), with an extra plugin spliced in.
 */
function makeNet(version: string, splice?: { at: number; plugin: object }): Net {
	const id = rand();
	const n = subnetCounter++;
	const net: Net = {
		name: `t4-${id}`,
		bridge: `t4b${id}`,
		subnet: `10.214.${n}.0/24`,
		prefix: `10.214.${n}.`,
		confDir: tmp("t4-conf-"),
		cacheDir: tmp("t4-cache-"),
		file: "",
	};
	const plugins: object[] = [
		{
			type: "bridge",
			bridge: net.bridge,
			isGateway: true,
			ipMasq: true,
			hairpinMode: true,
			ipam: {
				type: "host-local",
				routes: [{ dst: "0.0.0.0/0" }],
				ranges: [[{ subnet: net.subnet, gateway: `${net.prefix}1` }]],
			},
		},
		{ type: "portmap", capabilities: { portMappings: true } },
		{ type: "firewall" },
		{ type: "tuning" },
	];
	// Debian's firewall plugin speaks 0.4.0 and later only: a 0.3.1 list cannot hold it.
	if (version === "0.3.1") plugins.splice(2, 1);
	if (splice) plugins.splice(splice.at, 0, splice.plugin);
	net.file = `${net.confDir}/10-${net.name}.conflist`;
	writeFileSync(net.file, JSON.stringify({ cniVersion: version, name: net.name, plugins }));
	cleanups.push(() => {
		sh(["ip", "link", "del", net.bridge]);
		rmSync(`/var/lib/cni/networks/${net.name}`, { recursive: true, force: true });
	});
	return net;
}

function cni(net: Net, args: string[], env: Record<string, string> = {}) {
	const argv = [
		"cni",
		...args,
		"--cni-cache-dir",
		net.cacheDir,
		"--cni-plugin-dir",
		`${FIXTURE_PLUGINS}:/usr/lib/cni`,
	];
	const fullEnv = { NETCONFPATH: net.confDir, PATH: process.env.PATH ?? "/usr/bin:/bin", ...env };
	// A test that fails half-way still leaves nothing: every ADD gets a DEL at the end (a no-op
	// when the test already did it).
	if (args[0] === "add") {
		cleanups.push(() => {
			Bun.spawnSync([BIN, ...argv.map((a, i) => (i === 1 ? "del" : a))], { env: fullEnv });
		});
	}
	return ctrnet(argv, { env: fullEnv });
}

/** iptables lines (filter and nat) that mention any of `needles`. */
function iptablesLines(needles: string[]): string[] {
	const out: string[] = [];
	for (const table of ["filter", "nat"]) {
		const r = sh(["iptables", "-w", "-t", table, "-S"]);
		for (const l of r.out.split("\n"))
			if (needles.some((n) => l.includes(n))) out.push(`${table}: ${l}`);
	}
	return out;
}

/** Chains that `lines` jump to whose names are CNI's per-container chains. */
function perContainerChains(lines: string[]): string[] {
	const chains = new Set<string>();
	for (const l of lines) {
		const m = / -j (CNI-(?!HOSTPORT-|FORWARD|ADMIN|ISOLATION)[A-Za-z0-9-]+)/.exec(l);
		if (m?.[1]) chains.add(m[1]);
	}
	return [...chains];
}

function chainExists(chain: string): boolean {
	return ["filter", "nat"].some((t) => sh(["iptables", "-w", "-t", t, "-S", chain]).code === 0);
}

function leases(net: Net): string[] {
	const dir = `/var/lib/cni/networks/${net.name}`;
	if (!existsSync(dir)) return [];
	return readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f) || f.includes(":"));
}

function addressesIn(ns: string, ifname: string): string[] {
	const r = sh(["ip", "-n", ns, "-j", "addr", "show", "dev", ifname, "scope", "global"]);
	if (r.code !== 0) return [];
	const j = JSON.parse(r.out) as { addr_info?: { local?: string; prefixlen: number }[] }[];
	// iproute2 lists filtered-out addresses as empty objects
	return j.flatMap((l) =>
		(l.addr_info ?? []).filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`),
	);
}

describe.if(ROOT)("ADD, CHECK, DEL with the real plugins", () => {
	for (const version of ["0.3.1", "0.4.0", "1.0.0"]) {
		test(`bridge+host-local, portmap, firewall, tuning at cniVersion ${version}`, async () => {
			const net = makeNet(version);
			const ns = netns();
			const id = `t4-ctr-${rand()}`;
			const port = 20000 + Math.floor(Math.random() * 20000);
			const capArgs = JSON.stringify({
				portMappings: [{ hostPort: port, containerPort: 80, protocol: "tcp" }],
			});
			const add = await cni(net, ["add", net.name, ns.path, "--id", id], { CAP_ARGS: capArgs });
			expect(add.stderr).toBe("");
			expect(add.code).toBe(0);
			const result = JSON.parse(add.stdout);
			expect(result.cniVersion).toBe(version);
			const ip = result.ips[0];
			expect(ip.address.startsWith(net.prefix)).toBe(true);
			if (version === "1.0.0") expect(ip.version).toBeUndefined();
			else expect(ip.version).toBe("4");
			// the address the result names is on the interface inside the netns
			const eth0 = result.interfaces[ip.interface];
			expect(eth0.name).toBe("eth0");
			expect(eth0.sandbox).toBe(ns.path);
			expect(addressesIn(ns.name, "eth0")).toContain(ip.address);
			const veth = result.interfaces.find(
				(i: { name: string; sandbox?: string }) => !i.sandbox && i.name !== net.bridge,
			).name;
			expect(sh(["ip", "link", "show", veth]).code).toBe(0);
			expect(leases(net)).toEqual([ip.address.split("/")[0]]);
			const addr = ip.address.split("/")[0];
			const rules = iptablesLines([id, `${addr}/32`]);
			expect(rules.some((l) => l.includes(`--dport ${port}`) || l.includes(`dports ${port}`))).toBe(
				true,
			);
			const chains = perContainerChains(rules);
			expect(chains.length).toBeGreaterThan(0);
			// the cache: libcni's layout
			const cacheFile = `${net.cacheDir}/results/${net.name}-${id}-eth0`;
			const cached = JSON.parse(readFileSync(cacheFile, "utf8"));
			expect(cached.kind).toBe("cniCacheV1");
			expect(cached.capabilityArgs).toEqual(JSON.parse(capArgs));

			if (version !== "0.3.1") {
				const check = await cni(net, ["check", net.name, ns.path, "--id", id]);
				expect(check.stderr).toBe("");
				expect(check.code).toBe(0);
			} else {
				const check = await cni(net, ["check", net.name, ns.path, "--id", id]);
				expect(check.code).toBe(125);
				expect(check.stderr).toContain("does not support the CHECK command");
			}

			const del = await cni(net, ["del", net.name, ns.path, "--id", id]);
			expect(del.stderr).toBe("");
			expect(del.code).toBe(0);
			expect(sh(["ip", "link", "show", veth]).code).not.toBe(0);
			expect(sh(["ip", "-n", ns.name, "link", "show", "eth0"]).code).not.toBe(0);
			expect(leases(net)).toEqual([]);
			expect(iptablesLines([id, `${addr}/32`])).toEqual([]);
			for (const c of chains) expect(chainExists(c)).toBe(false);
			expect(existsSync(cacheFile)).toBe(false);
			// DEL is idempotent
			expect((await cni(net, ["del", net.name, ns.path, "--id", id])).code).toBe(0);
		});
	}

	test("cnitool's defaults: container ID from the netns path, CNI_IFNAME, CNI_ARGS", async () => {
		const net = makeNet("0.4.0");
		const ns = netns();
		const add = await cni(net, ["add", net.name, ns.path], {
			CNI_IFNAME: "net7",
			CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=t4",
		});
		expect(add.code).toBe(0);
		expect(addressesIn(ns.name, "net7")).toEqual([JSON.parse(add.stdout).ips[0].address]);
		const hex = new Bun.CryptoHasher("sha512").update(ns.path).digest("hex").slice(0, 20);
		const file = `${net.cacheDir}/results/${net.name}-cnitool-${hex}-net7`;
		const cached = JSON.parse(readFileSync(file, "utf8"));
		expect(cached.cniArgs).toEqual([
			["IgnoreUnknown", "1"],
			["K8S_POD_NAME", "t4"],
		]);
		expect((await cni(net, ["del", net.name, ns.path, "-i", "net7"])).code).toBe(0);
		expect(existsSync(file)).toBe(false);
		expect(leases(net)).toEqual([]);
	});

	test("DEL works from the cache after the conflist was removed", async () => {
		const net = makeNet("0.4.0");
		const ns = netns();
		const id = `t4-ctr-${rand()}`;
		const add = await cni(net, ["add", net.name, ns.path, "--id", id]);
		expect(add.code).toBe(0);
		const addr = JSON.parse(add.stdout).ips[0].address.split("/")[0];
		rmSync(net.file);
		const del = await cni(net, ["del", net.name, ns.path, "--id", id]);
		expect(del.stderr).toBe("");
		expect(del.code).toBe(0);
		expect(leases(net)).toEqual([]);
		expect(iptablesLines([id, `${addr}/32`])).toEqual([]);
		expect(readdirSync(`${net.cacheDir}/results`)).toEqual([]);
	});

	for (const at of [1, 3]) {
		test(`a plugin failing at position ${at + 1}: its message, and the host as before`, async () => {
			const failing = { type: "t4-fixture", failOn: "ADD" };
			const net = makeNet("0.4.0", { at, plugin: failing });
			const ns = netns();
			const id = `t4-ctr-${rand()}`;
			// Warm up without the failing plugin: the bridge and CNI's shared chains then exist,
			// which a DEL never removes, so what remains to compare is the container's own state.
			const ok = JSON.parse(readFileSync(net.file, "utf8"));
			ok.plugins = ok.plugins.filter((p: { type: string }) => p.type !== "t4-fixture");
			const warmFile = `${net.confDir}/05-warm.conflist`;
			writeFileSync(warmFile, JSON.stringify(ok));
			expect((await cni(net, ["add", net.name, ns.path, "--id", `${id}w`])).code).toBe(0);
			expect((await cni(net, ["del", net.name, ns.path, "--id", `${id}w`])).code).toBe(0);
			rmSync(warmFile);

			const snapshot = () => ({
				bridgePorts: sh(["ip", "-o", "link", "show", "master", net.bridge]).out,
				nsLinks: sh(["ip", "-n", ns.name, "-o", "link"]).out.replace(/\\\s+/g, " "),
				rules: iptablesLines([id, net.prefix]),
				leases: leases(net),
				cache: existsSync(`${net.cacheDir}/results`) ? readdirSync(`${net.cacheDir}/results`) : [],
			});
			const before = snapshot();
			const add = await cni(net, ["add", net.name, ns.path, "--id", id], {
				CAP_ARGS: JSON.stringify({
					portMappings: [{ hostPort: 20999, containerPort: 80, protocol: "tcp" }],
				}),
			});
			expect(add.code).toBe(125);
			expect(add.stdout).toBe("");
			expect(add.stderr).toContain("t4-fixture refuses ADD");
			expect(add.stderr).toContain("plugin t4-fixture failed (add)");
			expect(add.stderr.trimEnd().split("\n")).toHaveLength(1);
			expect(snapshot()).toEqual(before);
		});
	}

	test("podman v2's 87-podman-bridge.conflist runs as it is", async () => {
		const confDir = tmp("t4-conf-");
		const cacheDir = tmp("t4-cache-");
		writeFileSync(`${confDir}/87-podman-bridge.conflist`, readFileSync(PODMAN_CONFLIST));
		if (sh(["ip", "link", "show", "cni-podman0"]).code !== 0) {
			cleanups.push(() => sh(["ip", "link", "del", "cni-podman0"]));
		}
		const ns = netns();
		const id = `t4-ctr-${rand()}`;
		const run = (args: string[]) =>
			ctrnet(["cni", ...args, "--cni-cache-dir", cacheDir, "--cni-config-dir", confDir]);
		const add = await run(["add", "podman", ns.path, "--id", id]);
		expect(add.code).toBe(0);
		const address = JSON.parse(add.stdout).ips[0].address;
		expect(address.startsWith("10.88.")).toBe(true);
		expect(addressesIn(ns.name, "eth0")).toContain(address);
		expect((await run(["check", "podman", ns.path, "--id", id])).code).toBe(0);
		expect((await run(["del", "podman", ns.path, "--id", id])).code).toBe(0);
		expect(existsSync(`/var/lib/cni/networks/podman/${address.split("/")[0]}`)).toBe(false);
	});
});

describe("1.1.0: STATUS, GC, ordering, capabilities (fixture plugins)", () => {
	const have = existsSync("/bin/bash");
	function fixtureNet(version: string, plugins: object[]) {
		const confDir = tmp("t4-conf-");
		const cacheDir = tmp("t4-cache-");
		const log = `${confDir}/calls.log`;
		const name = `t4-${rand()}`;
		writeFileSync(
			`${confDir}/${name}.conflist`,
			JSON.stringify({ cniVersion: version, name, plugins: plugins.map((p) => ({ ...p, log })) }),
		);
		const run = (args: string[], env: Record<string, string> = {}) =>
			ctrnet(["cni", ...args, "--cni-cache-dir", cacheDir, "--cni-plugin-dir", FIXTURE_PLUGINS], {
				env: { NETCONFPATH: confDir, ...env },
			});
		const calls = () => {
			if (!existsSync(log)) return [];
			const lines = readFileSync(log, "utf8").trimEnd().split("\n");
			const out: { head: string; conf: Record<string, unknown> }[] = [];
			for (let i = 0; i + 1 < lines.length; i += 2) {
				out.push({ head: (lines[i] as string).trim(), conf: JSON.parse(lines[i + 1] as string) });
			}
			return out;
		};
		return { name, cacheDir, run, calls, log };
	}

	test.if(have)("ADD order, prevResult chaining, runtimeConfig only where declared", async () => {
		const n = fixtureNet("1.1.0", [
			{ type: "t4-fixture", capabilities: { portMappings: true } },
			{ type: "t4-fixture", capabilities: { mac: true, ips: false } },
		]);
		const caps = {
			portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
			mac: "aa:bb:cc:dd:ee:ff",
			ips: ["10.214.250.9"],
		};
		const r = await n.run(["add", n.name, "/run/netns/t4-none", "--id", "t4-c1"], {
			CAP_ARGS: JSON.stringify(caps),
			CNI_ARGS: "IgnoreUnknown=1",
		});
		expect(r.stderr).toBe("");
		expect(JSON.parse(r.stdout)).toEqual({
			cniVersion: "1.1.0",
			ips: [{ address: "10.214.250.2/24" }],
			dns: {},
		});
		const [a, b] = n.calls();
		expect(a?.head).toBe("ADD t4-c1 eth0");
		expect(a?.conf.name).toBe(n.name);
		expect(a?.conf.cniVersion).toBe("1.1.0");
		expect(a?.conf.prevResult).toBeUndefined();
		expect(a?.conf.runtimeConfig).toEqual({ portMappings: caps.portMappings });
		expect(b?.conf.prevResult).toEqual({
			cniVersion: "1.1.0",
			ips: [{ address: "10.214.250.2/24" }],
			dns: {},
		});
		expect(b?.conf.runtimeConfig).toEqual({ mac: caps.mac });
		expect((await n.run(["del", n.name, "/run/netns/t4-none", "--id", "t4-c1"])).code).toBe(0);
		expect(
			n
				.calls()
				.slice(2)
				.map((c) => c.head),
		).toEqual(["DEL t4-c1 eth0", "DEL t4-c1 eth0"]);
		expect(n.calls()[2]?.conf.prevResult).toEqual(b?.conf.prevResult);
	});

	// The failing plugin gets no DEL: it may have refused because what it would create exists
	// already (another container's eth0), and its DEL would remove that.
	test.if(have)("a failure at position 2 of 3: DEL for 1 only, never for 2 or 3", async () => {
		const n = fixtureNet("1.0.0", [
			{ type: "t4-fixture", tag: "one" },
			{ type: "t4-fixture", tag: "two", failOn: "ADD" },
			{ type: "t4-fixture", tag: "three" },
		]);
		const r = await n.run(["add", n.name, "/run/netns/t4-none", "--id", "t4-c2"]);
		expect(r.code).toBe(125);
		expect(r.stderr).toBe(
			`Error: network "${n.name}": plugin t4-fixture failed (add): t4-fixture refuses ADD (as configured)\n`,
		);
		expect(n.calls().map((c) => `${c.head.split(" ")[0]} ${c.conf.tag}`)).toEqual([
			"ADD one",
			"ADD two",
			"DEL one",
		]);
		expect(existsSync(`${n.cacheDir}/results/${n.name}-t4-c2-eth0`)).toBe(false);
	});

	test.if(have)("STATUS runs at 1.1.0 only, and reports a plugin that is not ready", async () => {
		const ok = fixtureNet("1.1.0", [{ type: "t4-fixture" }, { type: "t4-fixture" }]);
		expect((await ok.run(["status", ok.name])).code).toBe(0);
		expect(ok.calls().map((c) => c.head)).toEqual(["STATUS", "STATUS"]);
		const bad = fixtureNet("1.1.0", [{ type: "t4-fixture", failOn: "STATUS" }]);
		const r = await bad.run(["status", bad.name]);
		expect(r.code).toBe(125);
		expect(r.stderr).toContain("t4-fixture refuses STATUS");
		const old = fixtureNet("1.0.0", [{ type: "t4-fixture" }]);
		expect((await old.run(["status", old.name])).code).toBe(0);
		expect(old.calls()).toEqual([]);
	});

	test.if(have)(
		"GC deletes every cached attachment, then GCs each plugin with the valid set",
		async () => {
			const n = fixtureNet("1.1.0", [{ type: "t4-fixture" }]);
			for (const id of ["t4-g1", "t4-g2"]) {
				expect((await n.run(["add", n.name, "/run/netns/t4-none", "--id", id])).code).toBe(0);
			}
			expect(readdirSync(`${n.cacheDir}/results`)).toHaveLength(2);
			const r = await n.run(["gc", n.name]);
			expect(r.stderr).toBe("");
			expect(r.code).toBe(0);
			expect(readdirSync(`${n.cacheDir}/results`)).toEqual([]);
			const calls = n.calls().slice(2);
			expect(calls.map((c) => c.head)).toEqual(["DEL t4-g1 eth0", "DEL t4-g2 eth0", "GC"]);
			expect(calls[2]?.conf["cni.dev/valid-attachments"]).toEqual([]);
		},
	);

	test.if(have)("bad CAP_ARGS, CNI_ARGS, ifname and unknown networks are refused", async () => {
		const n = fixtureNet("1.1.0", [{ type: "t4-fixture" }]);
		const cases: [string[], Record<string, string>, RegExp][] = [
			[["add", n.name, "/x"], { CAP_ARGS: "{" }, /CAP_ARGS is not JSON/],
			[
				["add", n.name, "/x"],
				{ CAP_ARGS: '{"portMappings":[{"hostPort":"x"}]}' },
				/CAP_ARGS: portMappings\.0/,
			],
			[["add", n.name, "/x"], { CNI_ARGS: "A" }, /invalid CNI_ARGS pair/],
			[["add", n.name, "/x", "--ifname", "a/b"], {}, /interface name/],
			[["add", "t4-nope", "/x"], {}, /network t4-nope not found/],
		];
		for (const [args, env, msg] of cases) {
			const r = await n.run(args, env);
			expect(r.code).toBe(125);
			expect(r.stderr).toMatch(msg);
		}
		expect(n.calls()).toEqual([]);
	});

	test.if(have)(
		"library: a plugin past its timeout is killed and reported; DEL by name from the cache",
		async () => {
			const n = fixtureNet("1.1.0", [{ type: "t4-fixture", sleep: "5" }]);
			const confDir = `${n.log.slice(0, n.log.lastIndexOf("/"))}`;
			const cni = new Cni({ pluginDirs: [FIXTURE_PLUGINS], cacheDir: n.cacheDir, timeoutMs: 300 });
			const rt = { containerId: "t4-lib", netns: "/run/netns/t4-none", ifName: "eth0" };
			const t0 = performance.now();
			let err: unknown;
			try {
				await cni.addNetworkList(findNetwork(confDir, n.name), rt);
			} catch (e) {
				err = e;
			}
			expect(err).toBeInstanceOf(PluginError);
			expect((err as Error).message).toContain("timed out after 300 ms");
			// nothing succeeded before it, so nothing is rolled back (no second timeout)
			expect((err as Error).message).not.toContain("rollback");
			expect(performance.now() - t0).toBeLessThan(3000);

			const quick = fixtureNet("1.0.0", [{ type: "t4-fixture" }]);
			const quickDir = quick.log.slice(0, quick.log.lastIndexOf("/"));
			const lib = new Cni({ pluginDirs: [FIXTURE_PLUGINS], cacheDir: quick.cacheDir });
			const result = await lib.addNetworkList(findNetwork(quickDir, quick.name), rt);
			expect(result.ips).toEqual([{ address: "10.214.250.2/24" }]);
			expect(lib.cachedResult(quick.name, rt)).toEqual(result);
			expect(lib.cachedAttachments("t4-lib").map((a) => a.network)).toEqual([quick.name]);
			// a second ADD of the same attachment is refused before any plugin runs
			const again = lib.addNetworkList(findNetwork(quickDir, quick.name), rt);
			expect(again).rejects.toThrow(/already attached to network/);
			await again.catch(() => {});
			rmSync(`${quickDir}/${quick.name}.conflist`);
			await lib.delNetworkList(undefined, rt, quick.name);
			expect(lib.cachedAttachments("t4-lib")).toEqual([]);
			expect(quick.calls().map((c) => c.head)).toEqual(["ADD t4-lib eth0", "DEL t4-lib eth0"]);
		},
	);
});
