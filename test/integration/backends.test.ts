// The container lifecycle, once per network backend (cni: the plugins; native: rtnetlink +
// nftables): setup with ports and traffic, static IP and MAC, two networks, reload after the
// firewall lost the container's rules, connect/disconnect with ports following, gc after the
// namespace is gone and after a kill -9, concurrency, and the leftover checks of each backend.
// Subnets 10.241.0.0/16 (cni) and 10.242.0.0/16 (native), IPv6 fd41::/16, fd42::/16.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import type { InspectObject } from "../../src/container/inspect";
import { BIN, have, requireBinary } from "../lib/cli";
import { leftovers as cniLeftovers, createNetworks } from "../lib/cni-world";
import { type World, world } from "../lib/env";
import { bridgePorts, curlGet, httpdIn, mountsUnder, sh } from "../lib/host";

const ok = have(["ip", "iptables", "nft", "nsenter", "busybox", "curl"], true);
const tag = Math.random().toString(16).slice(2, 6);
const BACKENDS = ["cni", "native"] as const;
type Backend = (typeof BACKENDS)[number];

interface Suite {
	backend: Backend;
	W: World;
	net: (s: string) => string;
	bridge: (s: string) => string;
	octet: number;
	ids: string[];
}

async function makeNet(s: Suite, name: string, subnet: string, extra: string[] = []) {
	const bridge = s.bridge(name);
	if (s.backend === "native") {
		const r = await s.W.run([
			"network",
			"create",
			"--subnet",
			subnet,
			"--interface-name",
			bridge,
			...extra,
			s.net(name),
		]);
		expect(r.stderr).toBe("");
	} else {
		await createNetworks(s.W, [{ name: s.net(name), subnet, bridge }], "");
	}
}

/** What a container could leave behind, for either backend. */
async function leftovers(s: Suite, cids: string[], nets: string[]): Promise<string[]> {
	if (s.backend === "cni") return cniLeftovers(s.W, cids, nets.map(s.net));
	const out: string[] = [];
	const rows = await s.W.json<{ netns: string }[]>(["ps", "--format", "json"]);
	const live = new Set(rows.map((r) => r.netns));
	const table = sh(["nft", "list", "table", "inet", "ctrnet"]).out;
	for (const cid of cids) if (table.includes(`"${cid} on`)) out.push(`nft element of ${cid}`);
	for (const n of nets) {
		for (const p of bridgePorts(s.bridge(n))) out.push(`veth ${p} on ${n}`);
		if (rows.length === 0 && table.includes(`network ${s.net(n)}"`))
			out.push(`nft elements of ${n}`);
	}
	const netnsDir = s.W.env.CTRNET_NETNS_DIR;
	for (const m of mountsUnder(netnsDir).filter((m) => m !== netnsDir && !live.has(m)))
		out.push(`mount ${m}`);
	if (existsSync(netnsDir))
		for (const f of readdirSync(netnsDir))
			if (!live.has(`${netnsDir}/${f}`)) out.push(`netns ${f}`);
	const db = new Database(`${s.W.env.CTRNET_ROOT}/ctrnet.db`, { readonly: true });
	const leases = db.query("SELECT container_id FROM ipam_leases").all() as {
		container_id: string;
	}[];
	db.close();
	for (const r of leases) if (cids.includes(r.container_id)) out.push(`lease of ${r.container_id}`);
	return out;
}

async function inspect(s: Suite, cid: string): Promise<InspectObject> {
	return (await s.W.json<InspectObject[]>(["inspect", cid]))[0] as InspectObject;
}

const servers: Bun.Subprocess[] = [];

for (const [k, backend] of BACKENDS.entries()) {
	const s: Suite = {
		backend,
		W: world(`t12-${backend}`),
		net: (n) => `t12${backend[0]}${n}-${tag}`,
		bridge: (n) => `t12${backend[0]}${tag}${n}`.slice(0, 15),
		octet: 241 + k,
		ids: [],
	};
	s.W.env.CTRNET_NETWORK_BACKEND = backend;
	const id = (name: string) => {
		const v = `t12${backend[0]}-${tag}-${name}`;
		s.ids.push(v);
		return v;
	};
	const sub = (third: number, v6 = false) =>
		v6 ? `fd${s.octet - 200}:${third}::/64` : `10.${s.octet}.${third}.0/24`;

	describe.if(ok)(`${backend} backend`, () => {
		beforeAll(async () => {
			requireBinary();
			await makeNet(s, "a", sub(1));
			await makeNet(s, "b", sub(2));
		});
		afterAll(async () => {
			for (const srv of servers.splice(0)) srv.kill();
			for (const cid of s.ids) await s.W.run(["teardown", cid]);
			for (const n of ["a", "b"]) await s.W.run(["network", "rm", "--force", s.net(n)]);
			s.W.cleanup();
		});

		test("a published port serves a page via 127.0.0.1 and the container's address", async () => {
			const cid = id("web");
			const port = 18700 + k * 10;
			const i = await s.W.json<InspectObject>([
				"setup",
				cid,
				"--network",
				s.net("a"),
				"-p",
				`${port}:80`,
			]);
			expect(i.NetworkSettings.IPAddress).toMatch(new RegExp(`^10\\.${s.octet}\\.1\\.`));
			expect(i.NetworkSettings.Networks[s.net("a")]?.InterfaceName).toBe("eth0");
			servers.push(httpdIn(i.NetworkSettings.SandboxKey, 80, `hello ${backend}`, s.W.dir));
			await Bun.sleep(300);
			expect(await curlGet(`http://127.0.0.1:${port}/`)).toBe(`hello ${backend}`);
			expect(await curlGet(`http://${i.NetworkSettings.IPAddress}:80/`)).toBe(`hello ${backend}`);
			expect((await s.W.run(["port", cid])).stdout).toBe(`80/tcp -> 0.0.0.0:${port}\n`);
			expect((await s.W.run(["teardown", cid])).code).toBe(0);
			expect(await curlGet(`http://127.0.0.1:${port}/`, 1)).toBe("");
			expect(await leftovers(s, [cid], ["a"])).toEqual([]);
		});

		test("a port on [::1] is served too (by the forwarder: the kernel cannot DNAT to ::1)", async () => {
			const cid = id("lo6");
			const port = 18704 + k * 10;
			const i = await s.W.json<InspectObject>([
				"setup",
				cid,
				"--network",
				s.net("a"),
				"-p",
				`[::1]:${port}:80`,
			]);
			servers.push(httpdIn(i.NetworkSettings.SandboxKey, 80, `v6 loopback ${backend}`, s.W.dir));
			await Bun.sleep(300);
			expect(await curlGet(`http://[::1]:${port}/`)).toBe(`v6 loopback ${backend}`);
			expect((await s.W.run(["port", cid])).stdout).toBe(`80/tcp -> [::1]:${port}\n`);
			expect((await s.W.run(["teardown", cid])).code).toBe(0);
			expect(await curlGet(`http://[::1]:${port}/`, 1)).toBe("");
			expect(await leftovers(s, [cid], ["a"])).toEqual([]);
		});

		test("static IP and MAC; two networks give eth0 and eth1", async () => {
			const cid = id("static");
			const ip = `10.${s.octet}.1.77`;
			const mac = "02:42:ac:11:00:77";
			const i = await s.W.json<InspectObject>([
				"setup",
				cid,
				"--network",
				`${s.net("a")},${s.net("b")}`,
				"--ip",
				ip,
				"--mac",
				mac,
			]);
			expect([i.NetworkSettings.IPAddress, i.NetworkSettings.MacAddress]).toEqual([ip, mac]);
			const inside = sh([
				"nsenter",
				`--net=${i.NetworkSettings.SandboxKey}`,
				"ip",
				"-o",
				"link",
				"show",
				"eth0",
			]).out;
			expect(inside).toContain(mac);
			expect(i.NetworkSettings.Networks[s.net("b")]?.InterfaceName).toBe("eth1");
			const again = await s.W.run(["setup", id("static2"), "--network", s.net("a"), "--ip", ip]);
			expect(again.code).toBe(125);
			expect((await s.W.run(["teardown", cid])).code).toBe(0);
			expect(await leftovers(s, [cid], ["a", "b"])).toEqual([]);
		});

		test("reload after the firewall lost the container's rules restores them, same IP and MAC", async () => {
			const cid = id("reload");
			const port = 18701 + k * 10;
			const i = await s.W.json<InspectObject>([
				"setup",
				cid,
				"--network",
				s.net("a"),
				"-p",
				`127.0.0.1:${port}:80`,
			]);
			servers.push(httpdIn(i.NetworkSettings.SandboxKey, 80, "reloaded", s.W.dir));
			await Bun.sleep(300);
			expect(await curlGet(`http://127.0.0.1:${port}/`)).toBe("reloaded");
			if (backend === "cni") sh(["iptables", "-w", "-t", "nat", "-F", "CNI-HOSTPORT-DNAT"]);
			else
				for (const m of ["ports4", "ports4_any"]) sh(["nft", "flush", "map", "inet", "ctrnet", m]);
			expect(await curlGet(`http://127.0.0.1:${port}/`, 1)).toBe("");
			const r = await s.W.run(["reload", cid]);
			expect([r.code, r.stderr]).toEqual([0, ""]);
			const after = await inspect(s, cid);
			expect([after.NetworkSettings.IPAddress, after.NetworkSettings.MacAddress]).toEqual([
				i.NetworkSettings.IPAddress,
				i.NetworkSettings.MacAddress,
			]);
			expect(await curlGet(`http://127.0.0.1:${port}/`)).toBe("reloaded");
			expect((await s.W.run(["teardown", cid])).code).toBe(0);
			expect(await leftovers(s, [cid], ["a"])).toEqual([]);
		});

		test("connect, then disconnect of the ports' network: the ports follow to the other", async () => {
			const cid = id("move");
			const port = 18702 + k * 10;
			const i = await s.W.json<InspectObject>([
				"setup",
				cid,
				"--network",
				s.net("a"),
				"-p",
				`${port}:80`,
			]);
			expect((await s.W.run(["connect", s.net("b"), cid])).code).toBe(0);
			servers.push(httpdIn(i.NetworkSettings.SandboxKey, 80, "moved", s.W.dir));
			await Bun.sleep(300);
			expect(await curlGet(`http://127.0.0.1:${port}/`)).toBe("moved");
			const d = await s.W.run(["disconnect", s.net("a"), cid]);
			expect([d.code, d.stderr]).toEqual([0, ""]);
			const after = await inspect(s, cid);
			expect(Object.keys(after.NetworkSettings.Networks)).toEqual([s.net("b")]);
			expect(await curlGet(`http://127.0.0.1:${port}/`)).toBe("moved");
			expect((await s.W.run(["teardown", cid])).code).toBe(0);
			expect(await leftovers(s, [cid], ["a", "b"])).toEqual([]);
		});

		test("gc: a container whose namespace is gone, and setups killed at every step", async () => {
			const gone = id("gone");
			const i = await s.W.json<InspectObject>([
				"setup",
				gone,
				"--network",
				s.net("a"),
				"-p",
				`${18703 + k * 10}:80`,
			]);
			sh(["umount", i.NetworkSettings.SandboxKey]);
			sh(["rm", "-f", i.NetworkSettings.SandboxKey]);
			const report = await s.W.json<{ reclaimed: { id: string }[] }>(["gc", "--format", "json"]);
			expect(report.reclaimed.map((r) => r.id)).toEqual([gone]);
			// kill -9 after a range of delays: each lands in some step of the setup (or after it).
			const killed: string[] = [];
			for (const ms of [2, 5, 8, 11, 14, 17, 20, 25, 30, 40, 60]) {
				const cid = id(`k${ms}`);
				killed.push(cid);
				const p = Bun.spawn(
					[BIN, "setup", cid, "--network", s.net("b"), "-p", `${18800 + k * 100 + ms}:80`],
					{
						env: { PATH: process.env.PATH ?? "", ...s.W.env },
						stdout: "ignore",
						stderr: "ignore",
					},
				);
				await Bun.sleep(ms);
				p.kill(9);
				await p.exited;
			}
			await s.W.run(["gc"]);
			// What finished before its kill is a live container: torn down normally.
			for (const r of await s.W.json<{ id: string; status: string }[]>([
				"ps",
				"--format",
				"json",
			])) {
				expect(r.status).toBe("ready");
				expect((await s.W.run(["teardown", r.id])).code).toBe(0);
			}
			expect(await leftovers(s, [gone, ...killed], ["a", "b"])).toEqual([]);
		});

		test.if(backend === "native")(
			"gc: a setup killed after its firewall step, before its result was stored",
			async () => {
				const cid = id("nores");
				await s.W.json<InspectObject>([
					"setup",
					cid,
					"--network",
					s.net("b"),
					"-p",
					`${18799 + k * 100}:80`,
				]);
				// The record as the killed process left it: its intent (the network, no result yet),
				// a dead owner, the setup under way. Its lease and nft elements are on the host.
				const db = new Database(`${s.W.env.CTRNET_ROOT}/ctrnet.db`);
				const row = db.query("SELECT doc FROM containers WHERE id = ?").get(cid) as { doc: string };
				const doc = JSON.parse(row.doc);
				doc.results = {};
				doc.status = "creating";
				doc.op = { kind: "setup" };
				doc.owner = { pid: 2 ** 22 + 1, startTime: "1" }; // above pid_max: never alive
				db.query("UPDATE containers SET doc = ? WHERE id = ?").run(JSON.stringify(doc), cid);
				db.close();
				expect(sh(["nft", "list", "table", "inet", "ctrnet"]).out).toContain(`"${cid} on`);
				const report = await s.W.json<{ reclaimed: { id: string }[] }>(["gc", "--format", "json"]);
				expect(report.reclaimed.map((r) => r.id)).toEqual([cid]);
				expect(await leftovers(s, [cid], ["b"])).toEqual([]);
			},
		);

		test("20 concurrent setups get distinct addresses; 20 concurrent teardowns leave nothing", async () => {
			const cids = Array.from({ length: 20 }, (_, n) => id(`c${n}`));
			const ups = await Promise.all(
				cids.map((c, n) =>
					s.W.run(["setup", c, "--network", s.net("a"), "-p", `${19100 + k * 100 + n}:80`]),
				),
			);
			expect(ups.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
			const ips = ups.map((r) => (JSON.parse(r.stdout) as InspectObject).NetworkSettings.IPAddress);
			expect(new Set(ips).size).toBe(20);
			const downs = await Promise.all(cids.map((c) => s.W.run(["teardown", c])));
			expect(downs.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
			expect(await leftovers(s, cids, ["a"])).toEqual([]);
		});
	});
}
