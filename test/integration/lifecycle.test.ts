// The container lifecycle against the real CNI plugins (bridge, host-local, portmap, firewall,
// tuning): setup, inspect, ports, stats, reload, connect/disconnect, teardown, rollback, gc.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import type { InspectObject } from "../../src/container/inspect";
import { BIN, have, requireBinary } from "../lib/cli";
import { createNetworks, leftovers as sharedLeftovers } from "../lib/cni-world";
import { world } from "../lib/env";
import {
	addressesInNetns,
	cniIdComment,
	curlGet,
	httpdIn,
	iptablesMentioning,
	leaseFiles,
	processesMatching,
	sh,
} from "../lib/host";

const ok = have(["iptables", "nsenter", "busybox", "curl", "ip"], true);
const W = world("t5-life");
const tag = Math.random().toString(16).slice(2, 6);
const NET_A = `t5a-${tag}`; // 10.215.1.0/25
const NET_B = `t5b-${tag}`; // 10.215.2.0/26
const NET_C = `t5c-${tag}`; // 10.215.3.0/24
const NET_FAIL = `t5f-${tag}`; // bridge + a plugin that fails ADD
const NET_SLOW = `t5s-${tag}`; // bridge + a plugin that sleeps on ADD
const ids: string[] = [];
const id = (name: string) => {
	const v = `t5-${tag}-${name}`;
	ids.push(v);
	return v;
};
const servers: Bun.Subprocess[] = [];

async function inspect(cid: string): Promise<InspectObject> {
	return (await W.json<InspectObject[]>(["inspect", cid]))[0] as InspectObject;
}

const leftovers = (cids: string[], nets: string[]) => sharedLeftovers(W, cids, nets);

function netnsFiles(): string[] {
	const dir = W.env.CTRNET_NETNS_DIR as string;
	return existsSync(dir) ? readdirSync(dir) : [];
}

async function rows(): Promise<{ id: string; netns: string }[]> {
	return W.json(["ps", "--format", "json"]);
}

beforeAll(async () => {
	requireBinary();
	if (!ok) return;
	// Bridge names of their own: networks in other config dirs (other tests) may pick the same
	// ctrnetN, and the bridge plugin refuses a bridge that has another subnet's address.
	// Network "fail": its chain ends in a plugin that refuses ADD. "slow" sleeps in ADD.
	await createNetworks(
		W,
		[
			{ name: NET_A, subnet: "10.215.1.0/25" },
			{ name: NET_B, subnet: "10.215.2.0/26" },
			{ name: NET_C, subnet: "10.215.3.0/24" },
			{ name: NET_FAIL, subnet: "10.215.4.0/24", extra: { type: "t4-fixture", failOn: "ADD" } },
			{ name: NET_SLOW, subnet: "10.215.5.0/24", extra: { type: "t5-slow", sleep: 3 } },
		],
		`t5br${tag}`,
	);
});

afterAll(async () => {
	for (const s of servers) s.kill();
	if (ok) {
		for (const cid of ids) await W.run(["teardown", cid]);
		for (const n of [NET_A, NET_B, NET_C, NET_FAIL, NET_SLOW])
			await W.run(["network", "rm", "--force", n]);
	}
	W.cleanup();
});

describe.if(ok)("setup and teardown", () => {
	test("two networks (/25 and /26) give eth0 and eth1 with their prefix lengths", async () => {
		const cid = id("two");
		const r = await W.run(["setup", cid, "--network", `${NET_B},${NET_A}`]);
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		const i = JSON.parse(r.stdout) as InspectObject;
		expect(Object.keys(i.NetworkSettings.Networks)).toEqual([NET_A, NET_B]);
		expect(i.NetworkSettings.Networks[NET_A]).toMatchObject({
			IPPrefixLen: 25,
			InterfaceName: "eth0",
		});
		expect(i.NetworkSettings.Networks[NET_B]).toMatchObject({
			IPPrefixLen: 26,
			InterfaceName: "eth1",
		});
		expect(i.NetworkSettings.IPAddress).toStartWith("10.215.1.");
		const ns = i.NetworkSettings.SandboxKey;
		expect(ns.startsWith(W.env.CTRNET_NETNS_DIR as string)).toBe(true);
		expect(addressesInNetns(ns, "eth0")[0]).toBe(
			`${i.NetworkSettings.Networks[NET_A]?.IPAddress}/25`,
		);
		expect(addressesInNetns(ns, "eth1")[0]).toBe(
			`${i.NetworkSettings.Networks[NET_B]?.IPAddress}/26`,
		);

		const stats = await W.json<{ interface: string; network: string; rx_bytes: number }[]>([
			"stats",
			cid,
			"--format",
			"json",
		]);
		expect(stats.map((s) => [s.interface, s.network])).toEqual([
			["eth0", NET_A],
			["eth1", NET_B],
		]);
		// /sys inside nsenter is still the host's sysfs: ask the kernel through ip -s instead.
		const ipStats = JSON.parse(
			sh(["nsenter", `--net=${ns}`, "ip", "-j", "-s", "link", "show", "eth0"]).out,
		);
		const sys = ipStats[0].stats64.rx.bytes;
		expect(stats[0]?.rx_bytes).toBe(Number(sys));

		expect((await W.run(["teardown", cid])).code).toBe(0);
		expect(await leftovers([cid], [NET_A, NET_B])).toEqual([]);
		expect(await rows()).toEqual([]);
		// Idempotent: a second teardown warns and exits 0.
		const again = await W.run(["teardown", cid]);
		expect(again.code).toBe(0);
		expect(again.stderr).toStartWith("Warning:");
	});

	test("static IP and MAC are visible inside; the same IP twice fails and leaves nothing", async () => {
		const a = id("static-a");
		const b = id("static-b");
		const i = await W.json<InspectObject>([
			"setup",
			a,
			"--network",
			NET_C,
			"--ip",
			"10.215.3.77",
			"--mac",
			"92:d0:c6:0a:29:34",
		]);
		expect(i.NetworkSettings.IPAddress).toBe("10.215.3.77");
		expect(i.NetworkSettings.MacAddress).toBe("92:d0:c6:0a:29:34");
		const link = sh([
			"nsenter",
			`--net=${i.NetworkSettings.SandboxKey}`,
			"ip",
			"-o",
			"link",
			"show",
			"eth0",
		]).out;
		expect(link).toContain("92:d0:c6:0a:29:34");
		expect(addressesInNetns(i.NetworkSettings.SandboxKey, "eth0")).toContain("10.215.3.77/24");

		const dup = await W.run(["setup", b, "--network", NET_C, "--ip", "10.215.3.77"]);
		expect(dup.code).toBe(125);
		expect(dup.stderr.trim().split("\n")).toHaveLength(1);
		expect(dup.stderr).toContain("10.215.3.77");
		expect(await leftovers([b], [])).toEqual([]);
		expect((await rows()).map((r) => r.id)).toEqual([a]);
		await W.run(["teardown", a]);
		expect(await leftovers([a, b], [NET_C])).toEqual([]);
	});

	test("a failure in network 2 of 3 leaves the host as it was", async () => {
		const cid = id("rollback");
		// Sorted order: NET_A, NET_C, NET_FAIL... make the failing one the middle by naming.
		const r = await W.run([
			"setup",
			cid,
			"--network",
			`${NET_A},${NET_FAIL},${NET_C}`,
			"-p",
			"18181:80",
		]);
		expect(r.code).toBe(125);
		expect(r.stderr).toContain("t4-fixture refuses ADD");
		expect(r.stderr.trim().split("\n")).toHaveLength(1);
		expect(await leftovers([cid], [NET_A, NET_C, NET_FAIL])).toEqual([]);
		expect(await rows()).toEqual([]);
	});

	test("the same ID twice is refused", async () => {
		const cid = id("twice");
		await W.json(["setup", cid, "--network", "none"]);
		const r = await W.run(["setup", cid, "--network", "none"]);
		expect(r.code).toBe(125);
		expect(r.stderr).toContain("already set up");
		await W.run(["teardown", cid]);
		expect(await leftovers([cid], [])).toEqual([]);
	});
});

describe.if(ok)("network modes", () => {
	test("none: loopback only; host: no namespace; ns:PATH and container:ID join", async () => {
		const none = id("none");
		const i = await W.json<InspectObject>(["setup", none, "--network", "none"]);
		const links = sh(["nsenter", `--net=${i.NetworkSettings.SandboxKey}`, "ip", "-o", "link"])
			.out.trim()
			.split("\n");
		expect(links).toHaveLength(1);
		expect(links[0]).toContain("lo");
		expect(links[0]).toContain("UP");

		const host = id("host");
		const h = await W.json<InspectObject>(["setup", host, "--network", "host"]);
		expect(h.NetworkSettings.SandboxKey).toBe("");

		const shared = id("shared");
		const s = await W.json<InspectObject>(["setup", shared, "--network", `container:${none}`]);
		expect(s.NetworkSettings.SandboxKey).toBe(i.NetworkSettings.SandboxKey);

		const joined = id("joined");
		const j = await W.json<InspectObject>([
			"setup",
			joined,
			"--network",
			`ns:${i.NetworkSettings.SandboxKey}`,
		]);
		expect(j.NetworkSettings.SandboxKey).toBe(i.NetworkSettings.SandboxKey);

		// Joiners never remove the namespace they joined.
		await W.run(["teardown", joined, shared, host]);
		expect(existsSync(i.NetworkSettings.SandboxKey)).toBe(true);
		await W.run(["teardown", none]);
		expect(await leftovers([none], [])).toEqual([]);
	});

	test("--netns PATH: configured there, never deleted", async () => {
		const name = `t5ns-${tag}`;
		expect(sh(["ip", "netns", "add", name]).code).toBe(0);
		try {
			const cid = id("given-ns");
			const i = await W.json<InspectObject>([
				"setup",
				cid,
				"--netns",
				`/run/netns/${name}`,
				"--network",
				NET_C,
			]);
			expect(i.NetworkSettings.SandboxKey).toBe(`/run/netns/${name}`);
			expect(sh(["ip", "-n", name, "-o", "addr", "show", "eth0"]).out).toContain("10.215.3.");
			await W.run(["teardown", cid]);
			expect(existsSync(`/run/netns/${name}`)).toBe(true);
			expect(sh(["ip", "-n", name, "-o", "link", "show", "eth0"]).code).not.toBe(0);
			expect(await leftovers([cid], [NET_C])).toEqual([]);
		} finally {
			sh(["ip", "netns", "del", name]);
		}
	});

	test("--pid pins a process's namespace, and teardown works after it is gone", async () => {
		const proc = Bun.spawn(["unshare", "--net", "sleep", "30"], {
			stdout: "ignore",
			stderr: "ignore",
		});
		await Bun.sleep(100);
		const cid = id("pid");
		const i = await W.json<InspectObject>([
			"setup",
			cid,
			"--pid",
			String(proc.pid),
			"--network",
			NET_C,
		]);
		const inside = sh([
			"nsenter",
			`--net=/proc/${proc.pid}/ns/net`,
			"ip",
			"-o",
			"addr",
			"show",
			"eth0",
		]).out;
		expect(inside).toContain(i.NetworkSettings.IPAddress);
		proc.kill(9);
		await proc.exited;
		expect((await W.run(["teardown", cid])).code).toBe(0);
		expect(await leftovers([cid], [NET_C])).toEqual([]);
	});
});

describe.if(ok)("ports, reload, connect and disconnect", () => {
	test("a published port serves a page; reload after a DNAT flush restores it with the same IP and MAC", async () => {
		const cid = id("web");
		const i = await W.json<InspectObject>([
			"setup",
			cid,
			"--network",
			NET_A,
			"-p",
			"127.0.0.1:18282:80",
		]);
		// The leftover checks look for these rules: prove the needle finds them while they exist.
		expect(iptablesMentioning([cniIdComment(cid)]).length).toBeGreaterThan(0);
		servers.push(httpdIn(i.NetworkSettings.SandboxKey, 80, "hello from t5", W.dir));
		await Bun.sleep(200);
		expect(await curlGet("http://127.0.0.1:18282/")).toBe("hello from t5");
		expect((await W.run(["port", cid])).stdout).toBe("80/tcp -> 127.0.0.1:18282\n");
		expect((await W.run(["port", cid, "80"])).stdout).toBe("127.0.0.1:18282\n");
		expect(await W.json(["port", cid, "--format", "json"])).toEqual([
			{ hostIP: "127.0.0.1", hostPort: 18282, containerPort: 80, protocol: "tcp" },
		]);
		const missing = await W.run(["port", cid, "99/udp"]);
		expect(missing.code).toBe(125);
		expect(missing.stderr).toContain('failed to find published port "99/udp"');

		expect(sh(["iptables", "-w", "-t", "nat", "-F", "CNI-HOSTPORT-DNAT"]).code).toBe(0);
		expect(await curlGet("http://127.0.0.1:18282/", 1)).toBe("");
		const r = await W.run(["reload", cid]);
		expect(r.stdout).toBe(`${cid}\n`);
		const after = await inspect(cid);
		expect(after.NetworkSettings.IPAddress).toBe(i.NetworkSettings.IPAddress);
		expect(after.NetworkSettings.MacAddress).toBe(i.NetworkSettings.MacAddress);
		expect(await curlGet("http://127.0.0.1:18282/")).toBe("hello from t5");
	});

	test("ports follow the network that is left after a disconnect (podman #10052)", async () => {
		const cid = ids.find((x) => x.endsWith("-web")) as string;
		expect((await W.run(["connect", NET_C, cid])).code).toBe(0);
		let i = await inspect(cid);
		expect(Object.keys(i.NetworkSettings.Networks)).toEqual([NET_A, NET_C]);
		expect(i.NetworkSettings.Networks[NET_C]?.InterfaceName).toBe("eth1");
		const again = await W.run(["connect", NET_C, cid]);
		expect(again.code).toBe(125);
		expect(again.stderr).toContain("already connected");

		expect((await W.run(["disconnect", NET_A, cid])).code).toBe(0);
		i = await inspect(cid);
		expect(Object.keys(i.NetworkSettings.Networks)).toEqual([NET_C]);
		expect(
			sh(["nsenter", `--net=${i.NetworkSettings.SandboxKey}`, "ip", "link", "show", "eth0"]).code,
		).not.toBe(0);
		expect(await curlGet("http://127.0.0.1:18282/")).toBe("hello from t5");
		const notOn = await W.run(["disconnect", NET_A, cid]);
		expect(notOn.code).toBe(125);
		expect(notOn.stderr).toContain("not connected");

		// Reconnecting reuses the old interface name.
		expect((await W.run(["connect", NET_A, cid])).code).toBe(0);
		i = await inspect(cid);
		expect(i.NetworkSettings.Networks[NET_A]?.InterfaceName).toBe("eth0");
		expect(await curlGet("http://127.0.0.1:18282/")).toBe("hello from t5");

		const events = await W.json<{ id: string; type: string; network: string | null }[]>([
			"events",
			"--format",
			"json",
		]);
		expect(events.filter((e) => e.id === cid).map((e) => `${e.type}:${e.network}`)).toEqual([
			`setup:${NET_A}`,
			`reload:${NET_A}`,
			`connect:${NET_C}`,
			`disconnect:${NET_A}`,
			`connect:${NET_A}`,
		]);
		await W.run(["teardown", cid]);
		expect(await leftovers([cid], [NET_A, NET_C])).toEqual([]);
	});

	test("host ports taken by a listening socket or by another container are refused up front", async () => {
		const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
		try {
			const cid = id("busy");
			const r = await W.run(["setup", cid, "--network", NET_C, "-p", `${listener.port}:80`]);
			expect(r.code).toBe(125);
			expect(r.stderr).toContain(`host port ${listener.port}/tcp is already in use`);
			expect(await leftovers([cid], [NET_C])).toEqual([]);
		} finally {
			listener.stop(true);
		}
		const a = id("port-a");
		const b = id("port-b");
		await W.json(["setup", a, "--network", NET_C, "-p", "18383:80/udp"]);
		const r = await W.run(["setup", b, "--network", NET_C, "-p", "18383:81/udp"]);
		expect(r.code).toBe(125);
		expect(r.stderr).toContain("18383/udp is already in use");
		const random = await W.json<InspectObject>([
			"setup",
			b,
			"--network",
			NET_C,
			"-p",
			"80",
			"-p",
			"90-91/udp",
		]);
		expect(Object.keys(random.NetworkSettings.Ports).sort()).toEqual([
			"80/tcp",
			"90/udp",
			"91/udp",
		]);
		const p90 = Number(random.NetworkSettings.Ports["90/udp"]?.[0]?.HostPort);
		expect(Number(random.NetworkSettings.Ports["91/udp"]?.[0]?.HostPort)).toBe(p90 + 1);
		await W.run(["teardown", a, b]);
		expect(await leftovers([a, b], [NET_C])).toEqual([]);
	});
});

describe.if(ok)("network rm", () => {
	test("a network a container uses is refused; --force takes the container off it first", async () => {
		const extra = `t5r-${tag}`;
		expect((await W.run(["network", "create", "--subnet", "10.215.6.0/24", extra])).code).toBe(0);
		const cid = id("rm-user");
		await W.json(["setup", cid, "--network", `${NET_C},${extra}`]);
		const refused = await W.run(["network", "rm", extra]);
		expect(refused.code).toBe(125);
		expect(refused.stderr).toContain(`network ${extra} is in use by container(s) ${cid}`);
		expect(existsSync(`${W.env.CTRNET_CNI_CONFIG_DIR}/${extra}.conflist`)).toBe(true);
		const forced = await W.run(["network", "rm", "--force", extra]);
		expect(forced.code).toBe(0);
		const i = await inspect(cid);
		expect(Object.keys(i.NetworkSettings.Networks)).toEqual([NET_C]);
		expect(existsSync(`${W.env.CTRNET_CNI_CONFIG_DIR}/${extra}.conflist`)).toBe(false);
		expect(leaseFiles(extra)).toEqual([]);
		// host-local's per-network dir (lock, last_reserved_ip) goes with the network.
		expect(existsSync(`/var/lib/cni/networks/${extra}`)).toBe(false);
		await W.run(["teardown", cid]);
		expect(await leftovers([cid], [NET_C])).toEqual([]);
	});
});

describe.if(ok)("gc", () => {
	test("after a simulated reboot (netns gone, leases on disk) gc leaves no lease and no row", async () => {
		const cid = id("reboot");
		const i = await W.json<InspectObject>(["setup", cid, "--network", NET_C]);
		expect(leaseFiles(NET_C)).toContain(i.NetworkSettings.IPAddress);
		// What a reboot does to /run/netns: the mount and the file are gone.
		sh(["umount", i.NetworkSettings.SandboxKey]);
		sh(["rm", "-f", i.NetworkSettings.SandboxKey]);
		const r = await W.run(["gc"]);
		expect(r.code).toBe(0);
		expect(r.stdout).toContain(`reclaimed ${cid}`);
		expect(leaseFiles(NET_C)).not.toContain(i.NetworkSettings.IPAddress);
		expect(await leftovers([cid], [NET_C])).toEqual([]);
		expect(await rows()).toEqual([]);
	});

	test("kill -9 of ctrnet in the middle of setup, then gc: the host is clean", async () => {
		const cid = id("killed");
		const p = Bun.spawn(
			[BIN, "setup", cid, "--network", `${NET_A},${NET_SLOW}`, "-p", "18484:80"],
			{
				env: { ...process.env, ...W.env },
				stdout: "ignore",
				stderr: "ignore",
			},
		);
		// Wait until network A is attached and the slow plugin of the second network is running
		// (generously: a loaded machine runs the first network's four plugins slowly).
		try {
			for (let t = 0; t < 600 && processesMatching("t5-slow").length === 0; t++)
				await Bun.sleep(50);
			expect(processesMatching("t5-slow").length).toBeGreaterThan(0);
		} finally {
			p.kill(9);
			await p.exited;
		}
		const before = await rows();
		expect(before.map((r) => r.id)).toEqual([cid]);
		expect(await leftovers([cid], [NET_A])).not.toEqual([]); // something really was left
		const r = await W.run(["gc"]);
		expect(r.code).toBe(0);
		expect(r.stdout).toContain(`reclaimed ${cid}`);
		for (let t = 0; t < 100 && processesMatching("t5-slow").length > 0; t++) await Bun.sleep(50);
		expect(await leftovers([cid], [NET_A, NET_SLOW])).toEqual([]);
		expect(await rows()).toEqual([]);
	});
});

describe.if(ok)("bad input: one line, exit 125, nothing changed", () => {
	const cases: [string, string[]][] = [
		["ID with /", ["setup", "a/b"]],
		["ID with ..", ["setup", ".."]],
		["empty ID", ["setup", ""]],
		["ID too long", ["setup", "x".repeat(254)]],
		["bad publish", ["setup", "t5-bad", "-p", "99999"]],
		["bad publish proto", ["setup", "t5-bad", "-p", "80/icmp"]],
		["bad publish range", ["setup", "t5-bad", "-p", "80-81:90"]],
		["bad ip", ["setup", "t5-bad", "--ip", "114232346"]],
		["bad mac", ["setup", "t5-bad", "--mac", "zz:00:00:00:00:00"]],
		["multicast mac", ["setup", "t5-bad", "--mac", "01:00:5e:00:00:01"]],
		["bad network", ["setup", "t5-bad", "--network", "none,x"]],
		["unknown network", ["setup", "t5-bad", "--network", "t5-no-such-net"]],
		["missing ns path", ["setup", "t5-bad", "--network", "ns:/run/netns/t5-no-such"]],
		["netns and pid", ["setup", "t5-bad", "--netns", "/x", "--pid", "1"]],
		["ip without CNI", ["setup", "t5-bad", "--network", "none", "--ip", "10.1.1.1"]],
		["teardown bad ID", ["teardown", "../x"]],
		["inspect unknown", ["inspect", "t5-nope"]],
		["connect unknown container", ["connect", NET_A, "t5-nope"]],
	];
	for (const [what, args] of cases) {
		test(what, async () => {
			const before = netnsFiles();
			const r = await W.run(args);
			expect(r.code).toBe(125);
			const lines = r.stderr.trim().split("\n");
			expect(lines).toHaveLength(1);
			expect(lines[0]).toStartWith("Error: ");
			expect(netnsFiles()).toEqual(before);
			expect(await rows()).toEqual([]);
		});
	}
});
