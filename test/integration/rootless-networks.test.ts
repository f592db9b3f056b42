// Rootless users on real networks (issue 14), as the unprivileged test user: containers started in
// ctrnet's rootless user namespace (`ctrnet rootless exec`) on a CNI and on a native network reach
// each other by IP, get out through slirp4netns to an address on a test-made veth, publish a port
// (the server sees a peer on its network, not 127.0.0.1) that follows a disconnect, and leave
// nothing when the last one goes or after gc. Subnets 10.247.0.0/16; the veth 10.247.99.1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
	chmodSync,
	chownSync,
	copyFileSync,
	mkdirSync,
	mkdtempSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { BIN, have, requireBinary } from "../lib/cli";
import { alive, childNamed, sh, unshared, until } from "../lib/host";
import { testUser } from "../lib/rootless";

const ok = have(
	["runuser", "unshare", "nsenter", "newuidmap", "slirp4netns", "busybox", "curl", "ip"],
	true,
);
const user = ok ? testUser() : null;
const tag = Math.random().toString(16).slice(2, 6);
const work = mkdtempSync("/tmp/t14-");
const bin = `${work}/ctrnet`;
const home = `${work}/home`;
const OUTSIDE = "10.247.99.1";
const VETH = `t14v${tag}`;
const env = {
	HOME: home,
	PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
	CTRNET_ROOT: `${home}/state`,
	CTRNET_RUN_ROOT: `${home}/run`,
	XDG_CONFIG_HOME: `${home}/config`,
	XDG_DATA_HOME: `${home}/data`,
};
const sleepers: Bun.Subprocess[] = [];
const servers: Bun.Subprocess[] = [];

function asUser(cmd: string[], extra: Record<string, string> = {}) {
	return Bun.spawnSync(["runuser", "-u", "ctrnet-test", "--", ...cmd], {
		env: { ...env, ...extra },
		stdout: "pipe",
		stderr: "pipe",
	});
}
function ctrnet(args: string[], extra: Record<string, string> = {}) {
	const p = asUser([bin, ...args], extra);
	return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}
const native = { CTRNET_NETWORK_BACKEND: "native" };

/** A container process: `ctrnet rootless exec -- unshare -n sleep`, its pid the container's. */
async function container(): Promise<number> {
	const p = Bun.spawn(
		[
			"runuser",
			"-u",
			"ctrnet-test",
			"--",
			bin,
			"rootless",
			"exec",
			"--",
			"unshare",
			"-n",
			"sleep",
			"600",
		],
		{
			env,
			stdout: "ignore",
			stderr: "ignore",
		},
	);
	sleepers.push(p);
	// runuser forks: the container is its child (ctrnet execs into nsenter, unshare and sleep).
	const pid = await until(
		() => {
			const c = childNamed(p.pid, "sleep");
			return c && unshared(c) ? c : 0;
		},
		4000,
		20,
	);
	if (!pid) throw new Error("the container process did not start");
	return pid;
}
const inside = (pid: number, cmd: string[]) =>
	asUser(["nsenter", `--user=/proc/${pid}/ns/user`, `--net=/proc/${pid}/ns/net`, ...cmd]);
const ipOf = (id: string, extra: Record<string, string> = {}) =>
	JSON.parse(ctrnet(["inspect", id], extra).out)[0].NetworkSettings.IPAddress as string;

/** The user's helper processes still running (a zombie is gone: PID 1 here reaps late). */
function helpersOfUser(): string[] {
	return sh(["pgrep", "-u", String(user?.uid ?? -1), "-a"])
		.out.split("\n")
		.filter((l) => /sleep infinity|slirp4netns|rootlessport|aardvark/.test(l))
		.filter((l) => alive(Number(l.split(" ")[0])));
}

async function killContainers(): Promise<void> {
	for (const p of sleepers.splice(0)) p.kill(9);
	for (const pid of sh(["pgrep", "-u", String(user?.uid ?? -1), "-x", "sleep"])
		.out.split("\n")
		.filter(Boolean))
		if (sh(["cat", `/proc/${pid}/cmdline`]).out.includes("600"))
			process.kill(Number(pid), "SIGKILL");
	await Bun.sleep(200);
}

beforeAll(() => {
	requireBinary();
	if (!ok || !user) return;
	copyFileSync(BIN, bin);
	chmodSync(bin, 0o755);
	chmodSync(work, 0o755);
	mkdirSync(home);
	chownSync(home, user.uid, user.gid);
	sh(["ip", "link", "add", VETH, "type", "veth", "peer", "name", `${VETH}p`]);
	sh(["ip", "addr", "add", `${OUTSIDE}/32`, "dev", VETH]);
	sh(["ip", "link", "set", VETH, "up"]);
	sh(["ip", "link", "set", `${VETH}p`, "up"]);
	mkdirSync(`${work}/www`);
	writeFileSync(`${work}/www/index.html`, "outside");
	servers.push(
		Bun.spawn(["busybox", "httpd", "-f", "-p", `${OUTSIDE}:18990`, "-h", `${work}/www`]),
	);
	expect(ctrnet(["network", "create", "--subnet", "10.247.1.0/24", `t14c-${tag}`]).code).toBe(0);
	expect(ctrnet(["network", "create", "--subnet", "10.247.3.0/24", `t14d-${tag}`]).code).toBe(0);
	expect(
		ctrnet(
			[
				"network",
				"create",
				"--subnet",
				"10.247.4.0/24",
				"--interface-name",
				`t14s${tag}`,
				`t14dns-${tag}`,
			],
			native,
		).code,
	).toBe(0);
	expect(
		ctrnet(
			[
				"network",
				"create",
				"--disable-dns",
				"--subnet",
				"10.247.2.0/24",
				"--interface-name",
				`t14n${tag}`,
				`t14n-${tag}`,
			],
			native,
		).code,
	).toBe(0);
});

afterAll(async () => {
	for (const s of servers) s.kill();
	await killContainers();
	if (ok && user) ctrnet(["gc"]);
	sh(["ip", "link", "del", VETH]);
	rmSync(work, { recursive: true, force: true });
});

describe.if(ok && !!user)("rootless networks", () => {
	test("two containers on a CNI network and two on a native one reach each other; outbound works", async () => {
		const [a, b, c, d] = [
			await container(),
			await container(),
			await container(),
			await container(),
		];
		for (const [id, pid, net, e] of [
			["c1", a, `t14c-${tag}`, {}],
			["c2", b, `t14c-${tag}`, {}],
			["n1", c, `t14n-${tag}`, native],
			["n2", d, `t14n-${tag}`, native],
		] as const) {
			const r = ctrnet(["setup", `t14-${tag}-${id}`, "--pid", String(pid), "--network", net], e);
			expect([r.code, r.err]).toEqual([0, ""]);
		}
		expect(inside(b, ["ping", "-c1", "-W2", ipOf(`t14-${tag}-c1`)]).exitCode).toBe(0);
		expect(inside(d, ["ping", "-c1", "-W2", ipOf(`t14-${tag}-n1`)]).exitCode).toBe(0);
		const out = inside(a, ["curl", "-s", "-m", "5", `http://${OUTSIDE}:18990/`]);
		expect(out.stdout.toString()).toBe("outside");
		const stats = JSON.parse(ctrnet(["stats", `t14-${tag}-c2`, "--format", "json"]).out);
		expect(stats[0]).toMatchObject({ interface: "eth0", network: `t14c-${tag}` });
		expect(stats[0].tx_packets).toBeGreaterThan(0);
		const info = ctrnet(["info", "--format", "json"]);
		const rl = JSON.parse(info.out).rootlessNetns;
		expect(rl.holder.running && rl.slirp4netns.running).toBe(true);
		for (const id of ["c1", "c2", "n1", "n2"])
			expect(ctrnet(["teardown", `t14-${tag}-${id}`]).code).toBe(0);
		await killContainers();
		expect(ctrnet(["gc"]).code).toBe(0);
		expect(JSON.parse(ctrnet(["info", "--format", "json"]).out).rootlessNetns).toBeNull();
		expect(helpersOfUser()).toEqual([]);
	});

	test("names on a native network resolve through aardvark-dns inside the rootless netns", async () => {
		const [a, b] = [await container(), await container()];
		const net = `t14dns-${tag}`;
		for (const [id, pid, alias] of [
			["d1", a, "web"],
			["d2", b, "db"],
		] as const) {
			const r = ctrnet(
				["setup", `t14-${tag}-${id}`, "--pid", String(pid), "--network", net, "--alias", alias],
				native,
			);
			expect([r.code, r.err]).toEqual([0, ""]);
		}
		const doc = JSON.parse(ctrnet(["inspect", `t14-${tag}-d1`]).out)[0];
		expect(doc.NetworkSettings.Networks[net]).toMatchObject({ DNSServers: ["10.247.4.1"] });
		// aardvark runs as the user, in the rootless netns (not in the host's).
		const dns = helpersOfUser().filter((l) => l.includes("aardvark"));
		expect(dns).toHaveLength(1);
		const dnsPid = dns[0]?.split(" ")[0];
		expect(sh(["readlink", `/proc/${dnsPid}/ns/net`]).out).not.toBe(
			sh(["readlink", "/proc/self/ns/net"]).out,
		);
		const lookup = (pid: number, name: string) => {
			for (let t = 0; t < 30; t++) {
				const out = inside(pid, ["busybox", "nslookup", name, "10.247.4.1"]).stdout.toString();
				const found = [...out.matchAll(/Address: (10\.247\.4\.\d+)/g)].map((m) => m[1]);
				if (found.length > 0) return found;
				Bun.sleepSync(100);
			}
			return [];
		};
		expect(lookup(a, "db")).toEqual([ipOf(`t14-${tag}-d2`)]);
		expect(lookup(b, `t14-${tag}-d1`)).toEqual([ipOf(`t14-${tag}-d1`)]);
		for (const id of ["d1", "d2"]) expect(ctrnet(["teardown", `t14-${tag}-${id}`]).code).toBe(0);
		await killContainers();
		expect(ctrnet(["gc"]).code).toBe(0);
		expect(helpersOfUser()).toEqual([]);
		expect(sh(["ls", `${env.CTRNET_RUN_ROOT}/aardvark-dns`]).code).not.toBe(0);
	});

	test("a published port: the server sees a peer on its network; it follows a disconnect", async () => {
		const pid = await container();
		const id = `t14-${tag}-web`;
		const r = ctrnet([
			"setup",
			id,
			"--pid",
			String(pid),
			"--network",
			`t14c-${tag}`,
			"-p",
			"127.0.0.1:18991:8080",
		]);
		expect([r.code, r.err]).toEqual([0, ""]);
		expect(ctrnet(["connect", `t14d-${tag}`, id]).code).toBe(0);
		writeFileSync(`${work}/www/index.html`, "inside");
		const log = `${work}/httpd.log`;
		const srv = Bun.spawn(
			[
				"runuser",
				"-u",
				"ctrnet-test",
				"--",
				"nsenter",
				`--user=/proc/${pid}/ns/user`,
				`--net=/proc/${pid}/ns/net`,
				"busybox",
				"httpd",
				"-f",
				"-vv",
				"-p",
				"8080",
				"-h",
				`${work}/www`,
			],
			{ stdout: "ignore", stderr: Bun.file(log) },
		);
		servers.push(srv);
		await Bun.sleep(300);
		const get = () => sh(["curl", "-s", "-m", "5", "http://127.0.0.1:18991/"]).out;
		expect(get()).toBe("inside");
		const peers = () =>
			[...sh(["cat", log]).out.matchAll(/\[(?:::ffff:)?([\d.]+)\]:\d+: url/g)].map((m) => m[1]);
		expect(peers()[0]).toBe("10.247.1.1"); // the bridge's address in the rootless netns
		const d = ctrnet(["disconnect", `t14c-${tag}`, id]);
		expect([d.code, d.err]).toEqual([0, ""]);
		expect(get()).toBe("inside");
		expect(peers().at(-1)).toBe("10.247.3.1"); // now through the other network
		expect(ctrnet(["teardown", id]).code).toBe(0);
		srv.kill();
		await killContainers();
		expect(ctrnet(["gc"]).code).toBe(0);
		expect(helpersOfUser()).toEqual([]);
	});

	test("gc after kill -9 of everything: nothing of the user's is left", async () => {
		const pid = await container();
		const id = `t14-${tag}-dead`;
		expect(
			ctrnet(
				["setup", id, "--pid", String(pid), "--network", `t14n-${tag}`, "-p", "18992:80"],
				native,
			).code,
		).toBe(0);
		expect(ctrnet(["connect", `t14dns-${tag}`, id], native).code).toBe(0);
		expect(helpersOfUser().filter((l) => l.includes("aardvark"))).toHaveLength(1);
		for (const line of helpersOfUser()) process.kill(Number(line.split(" ")[0]), "SIGKILL");
		await killContainers();
		const g = ctrnet(["gc", "--format", "json"]);
		expect(g.code).toBe(0);
		expect(JSON.parse(g.out).reclaimed.map((x: { id: string }) => x.id)).toContain(id);
		expect(ctrnet(["ps", "--format", "json"]).out.trim()).toBe("[]");
		expect(helpersOfUser()).toEqual([]);
		expect(JSON.parse(ctrnet(["info", "--format", "json"]).out).rootlessNetns).toBeNull();
		expect(sh(["ls", `${env.CTRNET_RUN_ROOT}/aardvark-dns`]).code).not.toBe(0);
	});

	test("refusals: a container outside the rootless user namespace, a subnet on slirp4netns' own", async () => {
		const outsider = Bun.spawn(
			["runuser", "-u", "ctrnet-test", "--", "unshare", "-Urn", "sleep", "600"],
			{ env },
		);
		sleepers.push(outsider);
		await Bun.sleep(300);
		const pid = Number(
			sh(["pgrep", "-P", String(outsider.pid), "-x", "sleep"]).out.trim() || outsider.pid,
		);
		const r = ctrnet(["setup", `t14-${tag}-out`, "--pid", String(pid), "--network", `t14c-${tag}`]);
		expect(r.code).toBe(125);
		expect(r.err).toMatch(
			/^Error: process \d+ is not in ctrnet's rootless user namespace.*ctrnet rootless exec/,
		);
		expect(ctrnet(["network", "create", "--subnet", "10.0.2.0/24", `t14s-${tag}`]).code).toBe(0);
		const inside2 = await container();
		const s = ctrnet([
			"setup",
			`t14-${tag}-slirp`,
			"--pid",
			String(inside2),
			"--network",
			`t14s-${tag}`,
		]);
		expect(s.code).toBe(125);
		expect(s.err).toContain("overlaps 10.0.2.0/24, which slirp4netns uses");
		expect(ctrnet(["ps", "--format", "json"]).out.trim()).toBe("[]");
		await killContainers();
		expect(ctrnet(["gc"]).code).toBe(0);
		expect(helpersOfUser()).toEqual([]);
	});

	test("slirp4netns of the rootless netns killed: the next setup brings it back", async () => {
		const a = await container();
		const b = await container(); // before the kill: a later `rootless exec` would restart it
		expect(
			ctrnet(["setup", `t14-${tag}-s1`, "--pid", String(a), "--network", `t14c-${tag}`]).code,
		).toBe(0);
		const slirp = JSON.parse(ctrnet(["info", "--format", "json"]).out).rootlessNetns.slirp4netns
			.pid;
		process.kill(slirp, "SIGKILL");
		await Bun.sleep(300);
		expect(
			JSON.parse(ctrnet(["info", "--format", "json"]).out).rootlessNetns.slirp4netns.running,
		).toBe(false);
		const r = ctrnet(["setup", `t14-${tag}-s2`, "--pid", String(b), "--network", `t14c-${tag}`]);
		expect(r.code).toBe(0);
		expect(r.err).toContain("slirp4netns is not running: starting it again");
		expect(
			JSON.parse(ctrnet(["info", "--format", "json"]).out).rootlessNetns.slirp4netns.running,
		).toBe(true);
		expect(
			inside(a, ["curl", "-s", "-m", "5", `http://${OUTSIDE}:18990/`]).stdout.toString(),
		).not.toBe("");
		for (const id of ["s1", "s2"]) expect(ctrnet(["teardown", `t14-${tag}-${id}`]).code).toBe(0);
		await killContainers();
		expect(ctrnet(["gc"]).code).toBe(0);
		expect(helpersOfUser()).toEqual([]);
	});
});
