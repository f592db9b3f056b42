// `ctrnet setup --network slirp4netns` end to end through the binary, as an unprivileged user
// (the container: a process made by `unshare -Urn`, set up with --pid) and as root (a namespace
// ctrnet creates): tap0's address and MTU, both port handlers and the peer the server sees,
// allow_host_loopback, podman's option errors, a port in use, teardown and gc leaving nothing.
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
import { BIN, have, outputOf, requireBinary, trackSetups } from "../lib/cli";
import { rootStateEnv } from "../lib/env";
import { childNamed, processesMatching, sh, until } from "../lib/host";
import { waitPortFree } from "../lib/rootless";

const USER = "ctrnet-test";
const ok = have(["slirp4netns", "nsenter", "unshare", "runuser", "busybox", "curl", "ip"], true);
const work = mkdtempSync("/tmp/t7-cli-");
const bin = `${work}/ctrnet`; // a copy every user can run, wherever the checkout is
const tag = Math.random().toString(16).slice(2, 6);
let uid = 0;

interface Ctr {
	/** Runs a command inside the container's namespaces, as its owner. */
	inside(cmd: string[]): string[];
	/** Runs ctrnet as the container's owner, with this world's state. */
	ctrnet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
	pid?: number;
	stop(): void;
	/** Tears down every container this test set up (also after a failed assertion), then stop(). */
	cleanup(): Promise<void>;
}

/** Adds `cleanup` and the record of set-up IDs it needs. */
function tracked(c: Omit<Ctr, "cleanup">): Ctr {
	return { ...c, ...trackSetups(c.ctrnet, () => c.stop()) };
}

function run(cmd: string[], env: Record<string, string>) {
	return Bun.spawn(cmd, {
		env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
		stdout: "pipe",
		stderr: "pipe",
		stdin: "ignore",
	});
}

/** A rootless container: `unshare -Urn sleep`, owned by the test user. */
async function rootlessContainer(): Promise<Ctr> {
	const home = `${work}/home-${Math.random().toString(36).slice(2, 6)}`;
	mkdirSync(home, { recursive: true });
	chownSync(home, uid, uid);
	const env = { HOME: home, CTRNET_ROOT: `${home}/state`, CTRNET_RUN_ROOT: `${home}/run` };
	const sleeper = run(["runuser", "-u", USER, "--", "unshare", "-Urn", "sleep", "300"], env);
	// runuser forks: the container is unshare's (now sleep's) process, found as its child.
	const pid = await until(() => childNamed(sleeper.pid, "sleep"), 2000, 20);
	const nsenter = [
		"nsenter",
		`--user=/proc/${pid}/ns/user`,
		`--net=/proc/${pid}/ns/net`,
		"--preserve-credentials",
	];
	return tracked({
		pid,
		inside: (cmd) => ["runuser", "-u", USER, "--", ...nsenter, ...cmd],
		ctrnet: (args) => outputOf(run(["runuser", "-u", USER, "--", bin, ...args], env)),
		stop: () => {
			// runuser's child is the container: end it, not just runuser.
			try {
				if (pid) process.kill(pid, "SIGKILL");
			} catch {} // already gone
			sleeper.kill(9);
		},
	});
}

/** A root container: a namespace ctrnet creates (`setup` without --pid). */
function rootContainer(): Ctr {
	const dir = `${work}/root-${Math.random().toString(36).slice(2, 6)}`;
	const env = rootStateEnv(dir);
	let netns = "";
	return tracked({
		inside: (cmd) => ["nsenter", `--net=${netns}`, ...cmd],
		async ctrnet(args) {
			const r = await outputOf(run([bin, ...args], env));
			const m = /"SandboxKey": "([^"]+)"/.exec(r.stdout);
			if (m) netns = m[1] as string;
			return r;
		},
		stop: () => {
			sh(["umount", "-l", `${dir}/netns`]);
		},
	});
}

const setupArgs = (c: Ctr, id: string, rest: string[]) => [
	"setup",
	id,
	...(c.pid ? ["--pid", String(c.pid)] : []),
	...rest,
];

/** busybox httpd inside the container, -v: it logs each client's address on stderr. */
function httpd(c: Ctr, port: number, text: string) {
	const root = `${work}/www-${port}`;
	mkdirSync(root, { recursive: true });
	writeFileSync(`${root}/index.html`, text);
	chmodSync(work, 0o755);
	chmodSync(root, 0o755);
	const p = Bun.spawn(c.inside(["busybox", "httpd", "-f", "-v", "-p", String(port), "-h", root]), {
		stdout: "ignore",
		stderr: "pipe",
	});
	return {
		async peers(): Promise<string[]> {
			// runuser/nsenter sit between us and httpd: end httpd itself, or stderr stays open.
			for (const pid of processesMatching(`-h ${root}`)) process.kill(pid, "SIGKILL");
			p.kill();
			const log = await new Response(p.stderr).text();
			return [...log.matchAll(/\[(?:::ffff:)?([0-9a-f.:]+)\]:\d+: response/g)].map(
				(m) => m[1] as string,
			);
		},
	};
}

function tap0(c: Ctr): { addr: string; mtu: number } {
	const j = JSON.parse(sh(c.inside(["ip", "-j", "addr", "show", "tap0"])).out)[0];
	const v4 = j.addr_info.find((a: { family: string }) => a.family === "inet");
	return { addr: `${v4.local}/${v4.prefixlen}`, mtu: j.mtu };
}

async function curl(url: string, iface?: string): Promise<string> {
	const args = ["curl", "-s", "-m", "5", ...(iface ? ["--interface", iface] : []), url];
	return (await outputOf(run(args, {}))).stdout;
}

/** slirp4netns and rootlessport processes serving this container (found by their command lines). */
function helpersFor(c: Ctr, netnsPath: string): number[] {
	const slirp = processesMatching(c.pid ? ` ${c.pid} tap0` : `${netnsPath} tap0`);
	const forwarder = c.pid ? processesMatching(`${bin} rootlessport`) : [];
	return [...slirp, ...forwarder];
}

beforeAll(() => {
	requireBinary();
	if (!ok) return;
	copyFileSync(BIN, bin);
	chmodSync(bin, 0o755);
	chmodSync(work, 0o755);
	uid = Number(sh(["id", "-u", USER]).out.trim());
	if (!uid) throw new Error(`user ${USER} missing: run scripts/setup`);
});

afterAll(() => {
	rmSync(work, { recursive: true, force: true });
});

for (const [who, make] of [
	["rootless", rootlessContainer],
	["root", async () => rootContainer()],
] as const) {
	describe.if(ok)(`slirp4netns as ${who}`, () => {
		test("tap0 address (default and cidr=), mtu=9000, and a clean teardown", async () => {
			const c = await make();
			try {
				const id = `t7c-${tag}-${who}-a`;
				const r = await c.ctrnet(setupArgs(c, id, ["--network", "slirp4netns:mtu=9000"]));
				expect(r.stderr).toBe("");
				expect(tap0(c)).toEqual({ addr: "10.0.2.100/24", mtu: 9000 });
				expect((await c.ctrnet(["teardown", id])).code).toBe(0);

				const id2 = `t7c-${tag}-${who}-b`;
				await c.ctrnet(setupArgs(c, id2, ["--network", "slirp4netns:cidr=10.43.7.0/24"]));
				if (c.pid) expect(tap0(c).addr).toBe("10.43.7.100/24");
				expect((await c.ctrnet(["teardown", id2])).code).toBe(0);
				expect((await c.ctrnet(["ps", "--format", "json"])).stdout.trim()).toBe("[]");
			} finally {
				await c.cleanup();
			}
		});

		test("published ports: rootlesskit's peer is not 127.0.0.1, slirp4netns keeps the client's address", async () => {
			const c = await make();
			const dummy = `t7d${tag}${who.slice(0, 2)}`;
			const clientIP = who === "root" ? "10.219.78.1" : "10.219.77.1";
			try {
				const id = `t7c-${tag}-${who}-p`;
				const port = 18600 + (who === "root" ? 10 : 0);
				await c.ctrnet(
					setupArgs(c, id, ["--network", "slirp4netns", "-p", `127.0.0.1:${port}:8080`]),
				);
				const srv = httpd(c, 8080, "via rootlessport");
				await Bun.sleep(200);
				expect(await curl(`http://127.0.0.1:${port}/`)).toBe("via rootlessport");
				const peers = await srv.peers();
				expect(peers.length).toBeGreaterThan(0);
				for (const p of peers) expect(p).not.toBe("127.0.0.1");
				expect((await c.ctrnet(["teardown", id])).code).toBe(0);

				// A client address of a host interface this test makes, not loopback.
				// (no dummy driver on every kernel: a veth pair of our own does the same job)
				expect(
					sh(["ip", "link", "add", dummy, "type", "veth", "peer", "name", `${dummy}p`]).code,
				).toBe(0);
				sh(["ip", "addr", "add", `${clientIP}/32`, "dev", dummy]);
				sh(["ip", "link", "set", dummy, "up"]);
				sh(["ip", "link", "set", `${dummy}p`, "up"]);
				const id2 = `t7c-${tag}-${who}-q`;
				await c.ctrnet(
					setupArgs(c, id2, [
						"--network",
						"slirp4netns:port_handler=slirp4netns",
						"-p",
						`${port + 1}:8081`,
					]),
				);
				const srv2 = httpd(c, 8081, "via slirp api");
				await Bun.sleep(200);
				expect(await curl(`http://${clientIP}:${port + 1}/`, clientIP)).toBe("via slirp api");
				expect(await srv2.peers()).toContain(clientIP);
				expect((await c.ctrnet(["teardown", id2])).code).toBe(0);
				expect(sh(["ss", "-Hltn", `sport = :${port + 1}`]).out.trim()).toBe("");
				expect(sh(["ss", "-Hltn", `sport = :${port}`]).out.trim()).toBe("");
			} finally {
				sh(["ip", "link", "del", dummy]);
				await c.cleanup();
			}
		});

		test("allow_host_loopback=true reaches the host's loopback at 10.0.2.2; the default cannot", async () => {
			const c = await make();
			const server = Bun.serve({
				hostname: "127.0.0.1",
				port: 0,
				fetch: () => new Response("host loopback"),
			});
			try {
				for (const [allow, expected] of [
					["true", "host loopback"],
					["false", ""],
				] as const) {
					const id = `t7c-${tag}-${who}-l${allow}`;
					await c.ctrnet(
						setupArgs(c, id, ["--network", `slirp4netns:allow_host_loopback=${allow}`]),
					);
					const r = await outputOf(
						Bun.spawn(c.inside(["curl", "-s", "-m", "3", `http://10.0.2.2:${server.port}/`]), {
							stdout: "pipe",
							stderr: "pipe",
						}),
					);
					expect(r.stdout).toBe(expected);
					await c.ctrnet(["teardown", id]);
				}
			} finally {
				server.stop(true);
				await c.cleanup();
			}
		});

		test("bad options fail with podman's messages; a port in use fails clearly; nothing is left running", async () => {
			const c = await make();
			try {
				const cases: [string, string][] = [
					["slirp4netns:bogus=1", 'unknown option for slirp4netns: "bogus=1"'],
					["slirp4netns:port_handler=x", 'unknown port_handler for slirp4netns: "x"'],
					[
						"slirp4netns:allow_host_loopback=maybe",
						'invalid value of allow_host_loopback for slirp4netns: "maybe"',
					],
					["slirp4netns:outbound_addr6=::1", "enable_ipv6=true is required for outbound_addr6"],
					["slirp4netns:mtu=abc", 'invalid mtu "abc"'],
				];
				for (const [spec, message] of cases) {
					const r = await c.ctrnet(setupArgs(c, `t7c-${tag}-${who}-bad`, ["--network", spec]));
					expect(r.code).toBe(125);
					expect(r.stderr.trim()).toBe(`Error: ${message}`);
				}
				const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
				try {
					const id = `t7c-${tag}-${who}-busy`;
					const r = await c.ctrnet(
						setupArgs(c, id, ["--network", "slirp4netns", "-p", `127.0.0.1:${listener.port}:80`]),
					);
					expect(r.code).toBe(125);
					expect(r.stderr).toContain(`host port ${listener.port}/tcp is already in use`);
				} finally {
					listener.stop(true);
				}
				expect((await c.ctrnet(["ps", "--format", "json"])).stdout.trim()).toBe("[]");
				expect(processesMatching(`t7c-${tag}-${who}`)).toEqual([]);
			} finally {
				await c.cleanup();
			}
		});

		test("slirp4netns killed: ps shows it dead, reload starts it (and the forwarder) again", async () => {
			const c = await make();
			const id = `t7c-${tag}-${who}-rl`;
			const port = 18640 + (who === "root" ? 1 : 0);
			try {
				const r = await c.ctrnet(
					setupArgs(c, id, ["--network", "slirp4netns", "-p", `127.0.0.1:${port}:8080`]),
				);
				expect(r.code).toBe(0);
				const srv = httpd(c, 8080, "before and after");
				await Bun.sleep(200);
				expect(await curl(`http://127.0.0.1:${port}/`)).toBe("before and after");
				type Row = { id: string; helpers: { kind: string; pid: number; running: boolean }[] };
				const helpers = async () =>
					(JSON.parse((await c.ctrnet(["ps", "--format", "json"])).stdout) as Row[]).find(
						(x) => x.id === id,
					)?.helpers ?? [];
				const slirp = (await helpers()).find((h) => h.kind === "slirp4netns");
				expect(slirp?.running).toBe(true);
				process.kill(slirp?.pid as number, "SIGKILL");
				for (
					let t = 0;
					t < 100 && (await helpers()).some((h) => h.running && h.kind === "slirp4netns");
					t++
				)
					await Bun.sleep(50);
				expect((await helpers()).find((h) => h.kind === "slirp4netns")?.running).toBe(false);
				expect((await c.ctrnet(["ps"])).stdout).toContain("slirp4netns (dead)");
				const rl = await c.ctrnet(["reload", id]);
				expect(rl.stderr).toBe("");
				expect(rl.code).toBe(0);
				expect((await helpers()).every((h) => h.running)).toBe(true);
				await Bun.sleep(200);
				expect(await curl(`http://127.0.0.1:${port}/`)).toBe("before and after");
				await srv.peers();
				expect((await c.ctrnet(["teardown", id])).code).toBe(0);
				expect(await waitPortFree(port)).toBe(true);
			} finally {
				await c.cleanup();
			}
		});

		test("gc after the container is gone stops slirp4netns and the forwarder and frees the port", async () => {
			const c = await make();
			const id = `t7c-${tag}-${who}-gc`;
			const port = 18630 + (who === "root" ? 1 : 0);
			const r = await c.ctrnet(
				setupArgs(c, id, ["--network", "slirp4netns", "-p", `127.0.0.1:${port}:80`]),
			);
			expect(r.stderr).toBe("");
			expect(r.code).toBe(0);
			const key = /"SandboxKey": "([^"]+)"/.exec(r.stdout)?.[1] as string;
			const helpers = helpersFor(c, key);
			expect(helpers.length).toBe(c.pid ? 2 : 1);
			expect(sh(["ss", "-Hltn", `sport = :${port}`]).out).toContain(String(port));
			if (c.pid) c.stop();
			else {
				// As root, the namespace is ctrnet's: simulate its loss like a reboot would.
				sh(["umount", key]);
				rmSync(key, { force: true });
			}
			await Bun.sleep(100);
			const g = await c.ctrnet(["gc"]);
			expect(g.code).toBe(0);
			expect(g.stdout).toContain(`reclaimed ${id}`);
			for (let t = 0; t < 50 && sh(["ss", "-Hltn", `sport = :${port}`]).out.trim(); t++)
				await Bun.sleep(50);
			expect(sh(["ss", "-Hltn", `sport = :${port}`]).out.trim()).toBe("");
			expect(helpersFor(c, key)).toEqual([]);
			expect((await c.ctrnet(["ps", "--format", "json"])).stdout.trim()).toBe("[]");
			c.stop();
		});
	});
}
