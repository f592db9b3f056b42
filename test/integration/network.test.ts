// `ctrnet network …`: podman-v2-style conflists, the free-subnet choice checked against a real
// netns on each network, every refusal (exit 125, no file), rm removing the bridge, the default
// network written on first use. Temp config dirs; names t4-…; own leftovers only.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { BIN, ctrnet, have, requireBinary } from "../lib/cli";
import { shAll as sh } from "../lib/host";

beforeAll(requireBinary);
// Real plugins on a loaded machine (other suites run at the same time): 5 s is not enough.
setDefaultTimeout(60_000);

const ROOT = have(["ip", "iptables"], true) && existsSync("/usr/lib/cni/bridge");
const cleanups: (() => void)[] = [];
afterAll(() => {
	for (const c of cleanups.reverse()) c();
});

const rand = () => Math.random().toString(36).slice(2, 8);

function setup() {
	const confDir = mkdtempSync(`${tmpdir()}/t4-netconf-`);
	const cacheDir = mkdtempSync(`${tmpdir()}/t4-netcache-`);
	cleanups.push(() => {
		rmSync(confDir, { recursive: true, force: true });
		rmSync(cacheDir, { recursive: true, force: true });
	});
	const run = (args: string[]) =>
		ctrnet([...args, "--cni-config-dir", confDir, "--cni-cache-dir", cacheDir]);
	// Lock files (flock: they stay, like podman's cni.lock) are not networks.
	const files = () =>
		readdirSync(confDir)
			.filter((f) => !(f.startsWith(".ctrnet-") && f.endsWith(".lock")))
			.sort();
	return { confDir, cacheDir, run, files };
}

/** Every IPv4 network on the host, as (address, prefix) of its interface. */
function hostV4(): { ifname: string; cidr: string }[] {
	const j = JSON.parse(sh(["ip", "-j", "-4", "addr"]).out) as {
		ifname: string;
		addr_info: { local?: string; prefixlen: number }[];
	}[];
	return j.flatMap((l) =>
		l.addr_info
			.filter((a) => a.local && l.ifname !== "lo")
			.map((a) => ({ ifname: l.ifname, cidr: `${a.local}/${a.prefixlen}` })),
	);
}

function inSubnet(ip: string, cidr: string): boolean {
	const [base = "", len = "32"] = cidr.split("/");
	const n = (s: string) => s.split(".").reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
	const mask = Number(len) === 0 ? 0 : (~0 << (32 - Number(len))) >>> 0;
	return (n(ip) & mask) >>> 0 === (n(base) & mask) >>> 0;
}

describe.if(ROOT)("network create without --subnet", () => {
	test("twice: two different free subnets; a netns on each gets an address inside it", async () => {
		const t = setup();
		const names = [`t4-auto-${rand()}`, `t4-auto-${rand()}`];
		const subnets: string[] = [];
		const bridges: string[] = [];
		for (const name of names) {
			const r = await t.run(["network", "create", name]);
			expect(r.stderr).toBe("");
			expect(r.code).toBe(0);
			expect(r.stdout).toBe(`${t.confDir}/${name}.conflist\n`);
			const path = r.stdout.trim();
			expect(statSync(path).mode & 0o777).toBe(0o644);
			const conf = JSON.parse(readFileSync(path, "utf8"));
			expect(conf.plugins.map((p: { type: string }) => p.type)).toEqual([
				"bridge",
				"portmap",
				"firewall",
				"tuning",
			]);
			const range = conf.plugins[0].ipam.ranges[0][0];
			subnets.push(range.subnet);
			bridges.push(conf.plugins[0].bridge);
			cleanups.push(() => {
				sh(["ip", "link", "del", conf.plugins[0].bridge]);
				rmSync(`/var/lib/cni/networks/${name}`, { recursive: true, force: true });
			});
			expect(range.subnet).toMatch(/\/24$/);
			// free: overlaps no host address (routes are checked by the unit tests' planner)
			for (const h of hostV4()) {
				expect(inSubnet(h.cidr.split("/")[0] as string, range.subnet)).toBe(false);
			}
		}
		expect(subnets[0]).not.toBe(subnets[1]);
		expect(bridges[0]).not.toBe(bridges[1]);

		for (const [i, name] of names.entries()) {
			const ns = `t4-${rand()}`;
			expect(sh(["ip", "netns", "add", ns]).code).toBe(0);
			cleanups.push(() => sh(["ip", "netns", "del", ns]));
			const add = await t.run(["cni", "add", name, `/run/netns/${ns}`, "--id", `t4-c${i}`]);
			expect(add.stderr).toBe("");
			expect(add.code).toBe(0);
			cleanups.push(() => {
				Bun.spawnSync([
					BIN,
					"cni",
					"del",
					name,
					`/run/netns/${ns}`,
					"--id",
					`t4-c${i}`,
					"--cni-config-dir",
					t.confDir,
					"--cni-cache-dir",
					t.cacheDir,
				]);
			});
			const address = JSON.parse(add.stdout).ips[0].address as string;
			expect(inSubnet(address.split("/")[0] as string, subnets[i] as string)).toBe(true);
			const inNs = sh(["ip", "-n", ns, "-4", "-o", "addr", "show", "dev", "eth0"]).out;
			expect(inNs).toContain(address);
			expect((await t.run(["cni", "del", name, `/run/netns/${ns}`, "--id", `t4-c${i}`])).code).toBe(
				0,
			);
		}

		// in use (a cached attachment): rm is refused; --force DELs it, then removes
		const ns = `t4-${rand()}`;
		expect(sh(["ip", "netns", "add", ns]).code).toBe(0);
		cleanups.push(() => sh(["ip", "netns", "del", ns]));
		const add = await t.run([
			"cni",
			"add",
			names[0] as string,
			`/run/netns/${ns}`,
			"--id",
			"t4-busy",
		]);
		expect(add.code).toBe(0);
		const busyIp = JSON.parse(add.stdout).ips[0].address.split("/")[0];
		const refused = await t.run(["network", "rm", names[0] as string]);
		expect(refused.code).toBe(125);
		expect(refused.stderr).toContain(`network ${names[0]} is in use by container(s) t4-busy`);
		expect(t.files()).toContain(`${names[0]}.conflist`);
		const forced = await t.run(["network", "rm", "--force", names[0] as string]);
		expect(forced.stderr).toBe("");
		expect(forced.code).toBe(0);
		expect(existsSync(`/var/lib/cni/networks/${names[0]}/${busyIp}`)).toBe(false);
		expect(sh(["ip", "-n", ns, "link", "show", "eth0"]).code).not.toBe(0);
		expect(readdirSync(`${t.cacheDir}/results`)).toEqual([]);
		expect(sh(["ip", "link", "show", bridges[0] as string]).code).not.toBe(0);

		// rm: the conflist and the bridge device go
		expect(
			(await t.run(["cni", "add", names[1] as string, `/run/netns/${ns}`, "--id", "t4-x"])).code,
		).toBe(0);
		expect(
			(await t.run(["cni", "del", names[1] as string, `/run/netns/${ns}`, "--id", "t4-x"])).code,
		).toBe(0);
		expect(sh(["ip", "link", "show", bridges[1] as string]).code).toBe(0);
		names.shift();
		bridges.shift();
		const rm = await t.run(["network", "rm", ...names]);
		expect(rm.stderr).toBe("");
		expect(rm.stdout).toBe(`${names.join("\n")}\n`);
		expect(t.files()).toEqual([]);
		for (const b of bridges) expect(sh(["ip", "link", "show", b]).code).not.toBe(0);
	});
});

describe("concurrent creates", () => {
	test("six at once without --subnet: six files, six different subnets and bridges", async () => {
		const t = setup();
		const names = Array.from({ length: 6 }, (_, i) => `t4-par${i}`);
		const rs = await Promise.all(names.map((n) => t.run(["network", "create", n])));
		for (const r of rs) expect([r.code, r.stderr]).toEqual([0, ""]);
		expect(t.files()).toEqual(names.map((n) => `${n}.conflist`));
		const confs = names.map((n) => JSON.parse(readFileSync(`${t.confDir}/${n}.conflist`, "utf8")));
		const subnets = new Set(confs.map((c) => c.plugins[0].ipam.ranges[0][0].subnet));
		const bridges = new Set(confs.map((c) => c.plugins[0].bridge));
		expect(subnets.size).toBe(6);
		expect(bridges.size).toBe(6);
	});
});

describe("network refusals: exit 125, one line, no file written", () => {
	const t = setup();
	const taken = "10.214.60.0/24";
	beforeAll(async () => {
		expect((await t.run(["network", "create", "t4-taken", "--subnet", taken])).code).toBe(0);
	});

	const cases: [string, string[], RegExp][] = [
		[
			"duplicate name",
			["t4-taken", "--subnet", "10.214.61.0/24"],
			/the network name t4-taken is already used/,
		],
		[
			"duplicate subnet",
			["t4-r1", "--subnet", taken],
			/overlaps 10\.214\.60\.0\/24 of network t4-taken/,
		],
		["overlapping subnet", ["t4-r2", "--subnet", "10.214.60.128/25"], /overlaps/],
		["overlapping supernet", ["t4-r3", "--subnet", "10.214.0.0/16"], /overlaps/],
		[
			"gateway outside the subnet",
			["t4-r4", "--subnet", "10.214.62.0/24", "--gateway", "10.214.63.1"],
			/is not in subnet/,
		],
		["invalid CIDR", ["t4-r5", "--subnet", "10.214.62.0/33"], /invalid subnet/],
		["not a CIDR", ["t4-r6", "--subnet", "banana"], /invalid subnet/],
		["--ipv6 without a v6 subnet", ["t4-r7", "--ipv6"], /requires an IPv6 --subnet/],
		[
			"--ipv6 with a v4 subnet",
			["t4-r8", "--ipv6", "--subnet", "10.214.62.0/24"],
			/requires an IPv6 --subnet/,
		],
		["bad name", ["t4 bad"], /names must match/],
		["bad name (leading dot)", [".t4"], /names must match/],
		[
			"ip-range outside",
			["t4-r9", "--subnet", "10.214.62.0/24", "--ip-range", "10.214.70.0/25"],
			/does not fall within/,
		],
		["unknown driver", ["t4-r10", "--driver", "ipvlan"], /not supported/],
		["macvlan without a parent", ["t4-r11", "--driver", "macvlan"], /--macvlan-parent/],
		[
			"macvlan with a missing parent",
			["t4-r12", "--driver", "macvlan", "--macvlan-parent", "t4-nope0"],
			/failed to find network interface/,
		],
	];
	for (const [what, args, msg] of cases) {
		test(what, async () => {
			const before = t.files();
			const r = await t.run(["network", "create", ...args]);
			expect(r.code).toBe(125);
			expect(r.stdout).toBe("");
			expect(r.stderr).toMatch(msg);
			expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
			expect(t.files()).toEqual(before);
		});
	}

	test.if(ROOT)("a subnet in use by a host interface", async () => {
		const h = hostV4()[0];
		if (!h) return;
		const r = await t.run(["network", "create", "t4-host", "--subnet", h.cidr]);
		expect(r.code).toBe(125);
		expect(r.stderr).toContain("in use on the host");
		expect(t.files()).toEqual(["t4-taken.conflist"]);
	});
});

describe("ls, inspect, exists, rm", () => {
	test("listing and inspecting, podman's files included", async () => {
		const t = setup();
		Bun.write(
			`${t.confDir}/87-podman-bridge.conflist`,
			readFileSync(`${import.meta.dir}/../fixtures/cni-configs/87-podman-bridge.conflist`),
		);
		Bun.write(`${t.confDir}/99-broken.conflist`, "{");
		await Bun.sleep(10);
		expect((await t.run(["network", "create", "t4-ls", "--subnet", "10.214.64.0/24"])).code).toBe(
			0,
		);
		const v6 = await t.run([
			"network",
			"create",
			"t4-v6",
			"--ipv6",
			"--subnet",
			"fd00:214:64::/64",
		]);
		expect(v6.code).toBe(0);
		const ls = await t.run(["network", "ls"]);
		expect(ls.code).toBe(0);
		expect(ls.stdout.split("\n")[0]).toMatch(/^NAME\s+VERSION\s+PLUGINS$/);
		expect(ls.stdout).toMatch(/podman\s+0\.4\.0\s+bridge,portmap,firewall,tuning/);
		expect(ls.stderr).toContain("Warning: ");
		expect(ls.stderr).toContain("99-broken.conflist");
		const q = await t.run(["network", "ls", "--quiet"]);
		expect(q.stdout).toBe("podman\nt4-ls\nt4-v6\n");
		const json = JSON.parse((await t.run(["network", "ls", "--format", "json"])).stdout);
		expect(json.map((n: { name: string }) => n.name)).toEqual(["podman", "t4-ls", "t4-v6"]);
		const insp = await t.run(["network", "inspect", "t4-v6", "podman"]);
		const arr = JSON.parse(insp.stdout);
		expect(arr.map((c: { name: string }) => c.name)).toEqual(["t4-v6", "podman"]);
		expect(arr[0].plugins[0].ipam.ranges.map((r: { subnet: string }[]) => r[0]?.subnet)).toEqual([
			"fd00:214:64::/64",
			expect.stringMatching(/^10\.\d+\.\d+\.0\/24$/),
		]);
		const missing = await t.run(["network", "inspect", "t4-ls", "t4-nope"]);
		expect(missing.code).toBe(125);
		expect(missing.stderr).toContain("no such network t4-nope");
		expect(missing.stdout).toBe("");
	});

	test("exists exits 0 or 1; rm of an unknown network exits 125", async () => {
		const t = setup();
		expect((await t.run(["network", "create", "t4-ex", "--subnet", "10.214.65.0/24"])).code).toBe(
			0,
		);
		const yes = await t.run(["network", "exists", "t4-ex"]);
		expect([yes.code, yes.stdout, yes.stderr]).toEqual([0, "", ""]);
		const no = await t.run(["network", "exists", "t4-no"]);
		expect([no.code, no.stdout, no.stderr]).toEqual([1, "", ""]);
		const rm = await t.run(["network", "rm", "t4-no"]);
		expect(rm.code).toBe(125);
		expect(rm.stderr).toContain("no such network t4-no");
		expect((await t.run(["network", "rm", "--force", "t4-ex"])).code).toBe(0);
		expect(t.files()).toEqual([]);
	});

	test("macvlan: a conflist on a live parent", async () => {
		const t = setup();
		const r = await t.run([
			"network",
			"create",
			"t4-mv",
			"--driver",
			"macvlan",
			"--macvlan-parent",
			"lo",
		]);
		expect(r.code).toBe(0);
		expect(JSON.parse(readFileSync(r.stdout.trim(), "utf8")).plugins).toEqual([
			{ type: "macvlan", master: "lo", ipam: { type: "dhcp" } },
		]);
	});
});

describe("the default network", () => {
	test("is written on first use: bridge ctrnet0 on the default subnet, 0644", async () => {
		const t = setup();
		const name = `t4-def-${rand()}`;
		const r = await t.run(["cni", "status", name, "--default-network", name]);
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		const path = `${t.confDir}/${name}.conflist`;
		expect(statSync(path).mode & 0o777).toBe(0o644);
		const conf = JSON.parse(readFileSync(path, "utf8"));
		expect(conf.name).toBe(name);
		expect(conf.plugins[0]).toMatchObject({
			type: "bridge",
			bridge: "ctrnet0",
			isGateway: true,
			ipMasq: true,
			ipam: { ranges: [[{ subnet: "10.90.0.0/16", gateway: "10.90.0.1" }]] },
		});
		// a second use reads it; a network create then avoids its subnet and bridge
		expect((await t.run(["cni", "status", name, "--default-network", name])).code).toBe(0);
		expect(t.files()).toEqual([`${name}.conflist`]);
	});

	test("auto subnets avoid the default subnet even before it is written", async () => {
		const t = setup();
		const r = await t.run(["network", "create", "t4-near", "--default-subnet", "10.89.0.0/16"]);
		expect(r.code).toBe(0);
		const conf = JSON.parse(readFileSync(r.stdout.trim(), "utf8"));
		expect(conf.plugins[0].ipam.ranges[0][0].subnet.startsWith("10.89.")).toBe(false);
		expect(conf.plugins[0].bridge).not.toBe("ctrnet0");
	});
});
