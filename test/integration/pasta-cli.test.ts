// `ctrnet setup --network pasta` end to end through the binary, as root (a namespace ctrnet
// creates, or a process's with --pid) and as an unprivileged user (a process made by
// `unshare -Urn`, set up with --pid).
//
// pasta copies the addresses and routes of the namespace it starts in, so the test makes that
// namespace itself: ctrnet (root or the test user) runs inside "host", a named netns whose only
// uplink is a veth to "world" (10.238.N.2/24 and fd38:N::2/64, default routes via .1 / ::1). The
// machine's real uplink is never copied and never carries test traffic; "world" holds the
// outside servers and clients, with the test veth's addresses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { inNetns } from "../../ffi/netns";
import { BIN, have, outputOf, type RunResult, requireBinary, trackSetups } from "../lib/cli";
import { rootStateEnv } from "../lib/env";
import { childNamed, mountsUnder, must, processesMatching, sh, unshared, until } from "../lib/host";

const USER = "ctrnet-test";
const ok = have(["ip", "pasta", "nsenter", "unshare", "runuser", "pgrep", "ss"], true);
const tag = Math.random().toString(16).slice(2, 6);
const N = 1 + Math.floor(Math.random() * 250);
const HOST = `tpa-h-${tag}`;
const WORLD = `tpa-w-${tag}`;
const hostNs = `/run/netns/${HOST}`;
const worldNs = `/run/netns/${WORLD}`;
const HOST_IP = `10.238.${N}.2`;
const WORLD_IP = `10.238.${N}.1`;
const HOST_IP6 = `fd38:${N.toString(16)}::2`;
const UPLINK = `tpa${tag}u`;
const work = mkdtempSync("/tmp/tpa-cli-");
const bin = `${work}/ctrnet`; // a copy every user can run
let uid = 0;

function spawnIn(cmd: string[], env: Record<string, string> = {}) {
	return Bun.spawn(["nsenter", `--net=${hostNs}`, ...cmd], {
		env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
		stdout: "pipe",
		stderr: "pipe",
		stdin: "ignore",
	});
}

interface Ctr {
	who: "root" | "rootless";
	/** The container's network namespace (valid once set up when ctrnet creates it). */
	netns(): string;
	/** ctrnet as the container's owner, inside "host", with this container's state. */
	ctrnet(args: string[], env?: Record<string, string>): Promise<RunResult>;
	/** setup's namespace flag (--pid PID), when the container is a process. */
	pidArgs: string[];
	pid?: number;
	/** Ends the container's process (or loses ctrnet's namespace, as a reboot would). */
	kill(): void;
	/** Tears down every container it set up (also after a failed assertion), then kill(). */
	cleanup(): Promise<void>;
}

function tracked(c: Omit<Ctr, "cleanup">): Ctr {
	return { ...c, ...trackSetups(c.ctrnet, () => c.kill()) };
}

/** A process in new namespaces, started inside "host"; found as the child of runuser/nsenter. */
async function containerProcess(cmd: string[]): Promise<{ pid: number; proc: Bun.Subprocess }> {
	const proc = spawnIn(cmd);
	const pid = await until(
		() => {
			// unshare exec'd sleep itself unless runuser forked it
			const p = childNamed(proc.pid, "sleep") || (cmd[0] !== "runuser" ? proc.pid : 0);
			// 0: not in its own namespace yet (still in ours, or in "host" after nsenter)
			return p && unshared(p) && unshared(p, hostNs) ? p : 0;
		},
		3000,
		20,
	);
	if (!pid) throw new Error(`container process ${cmd.join(" ")} did not start`);
	return { pid, proc };
}

async function rootlessContainer(): Promise<Ctr> {
	const home = `${work}/home-${Math.random().toString(36).slice(2, 6)}`;
	mkdirSync(home, { recursive: true });
	chownSync(home, uid, uid);
	const { pid, proc } = await containerProcess([
		"runuser",
		"-u",
		USER,
		"--",
		"unshare",
		"-Urn",
		"sleep",
		"300",
	]);
	const env = [`HOME=${home}`, `CTRNET_ROOT=${home}/state`, `CTRNET_RUN_ROOT=${home}/run`];
	return tracked({
		who: "rootless",
		netns: () => `/proc/${pid}/ns/net`,
		pid,
		pidArgs: ["--pid", String(pid)],
		ctrnet: (args, extra = {}) =>
			outputOf(
				spawnIn([
					"runuser",
					"-u",
					USER,
					"--",
					"env",
					...env,
					...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
					bin,
					...args,
				]),
			),
		kill() {
			try {
				process.kill(pid, "SIGKILL");
			} catch {} // already gone
			proc.kill(9);
		},
	});
}

/** ctrnet as root inside "host", with the state of `dir` (and `extra` in its environment). */
function rootCtrnet(dir: string, args: string[], extra: Record<string, string>) {
	const env = { ...rootStateEnv(dir), ...extra };
	return outputOf(
		spawnIn(["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), bin, ...args]),
	);
}

/** Root, a namespace ctrnet creates (setup without --pid). */
function rootContainer(): Ctr {
	const dir = `${work}/root-${Math.random().toString(36).slice(2, 6)}`;
	let netns = "";
	return tracked({
		who: "root",
		netns: () => netns,
		pidArgs: [],
		async ctrnet(args, extra = {}) {
			const r = await rootCtrnet(dir, args, extra);
			const m = /"SandboxKey": "([^"]+)"/.exec(r.stdout);
			if (m) netns = m[1] as string;
			return r;
		},
		kill() {
			// As a reboot would: the namespace is gone (pasta notices and leaves by itself).
			for (const m of mountsUnder(`${dir}/netns`).reverse()) sh(["umount", m]);
		},
	});
}

/** Root, a process in its own network namespace (setup --pid pins it). */
async function rootPidContainer(): Promise<Ctr> {
	const dir = `${work}/rootpid-${Math.random().toString(36).slice(2, 6)}`;
	const { pid, proc } = await containerProcess(["unshare", "-n", "sleep", "300"]);
	return tracked({
		who: "root",
		netns: () => `/proc/${pid}/ns/net`,
		pid,
		pidArgs: ["--pid", String(pid)],
		ctrnet: (args, extra = {}) => rootCtrnet(dir, args, extra),
		kill() {
			proc.kill(9);
			for (const m of mountsUnder(`${dir}/netns`).reverse()) sh(["umount", m]);
		},
	});
}

/**
 * A TCP server in `netns` that answers a client's first data with the address it sees, then
 * closes (after reading: a close with unread data would be a reset, racing the answer).
 */
function peerServer(netns: string, port: number, hostname = "0.0.0.0") {
	const peers: string[] = [];
	const l = inNetns(netns, () =>
		Bun.listen({
			hostname,
			port,
			socket: {
				data(s) {
					peers.push(s.remoteAddress);
					s.end(`peer ${s.remoteAddress}\n`);
				},
			},
		}),
	);
	return { peers, stop: () => l.stop(true) };
}

/** A UDP server in `netns` that answers each datagram with the address it came from. */
async function udpPeerServer(netns: string, port: number) {
	const peers: string[] = [];
	const { made } = inNetns(netns, () => ({
		made: Bun.udpSocket({
			hostname: "0.0.0.0",
			port,
			socket: {
				data(s, _buf, p, addr) {
					peers.push(addr);
					s.send(`peer ${addr}\n`, p, addr);
				},
			},
		}),
	}));
	const u = await made;
	return { peers, stop: () => u.close() };
}

/**
 * Connects from inside `netns` to an IP literal, says hello, and returns everything read until
 * close ("" if refused). The client speaks first: Debian 12's pasta completes the handshake with
 * the container only when the client's first data arrives (seen here: the container's socket
 * stays in SYN-RECV until then), so a server that waits silently never sees the connection.
 */
function tcpFrom(netns: string, host: string, port: number, ms = 5000): Promise<string> {
	return new Promise((resolve) => {
		let got = "";
		const t = setTimeout(() => resolve(got), ms);
		inNetns(netns, () => {
			Bun.connect({
				hostname: host,
				port,
				socket: {
					open: (s) => {
						s.write("hello\n");
					},
					data: (_s, d) => {
						got += d.toString();
					},
					close: () => {
						clearTimeout(t);
						resolve(got);
					},
					connectError: () => {
						clearTimeout(t);
						resolve("");
					},
				},
			}).catch(() => {});
		});
	});
}

/** One datagram from inside `netns`; the first answer ("" after `ms`). */
async function udpFrom(netns: string, host: string, port: number, ms = 3000): Promise<string> {
	let answer: (s: string) => void = () => {};
	const got = new Promise<string>((r) => {
		answer = r;
	});
	const { made } = inNetns(netns, () => ({
		made: Bun.udpSocket({ socket: { data: (_s, buf) => answer(buf.toString()) } }),
	}));
	const s = await made;
	try {
		// pasta may still be binding the port's other family: a first datagram can be lost.
		for (let i = 0; i < 3; i++) {
			s.send("hi", port, host);
			const r = await Promise.race([got, Bun.sleep(ms / 3).then(() => "")]);
			if (r) return r;
		}
		return "";
	} finally {
		s.close();
	}
}

/** pasta processes serving one container (found by the pid file in its command line). */
function pastaFor(id: string): number[] {
	return processesMatching(`/${id}/pasta.pid`);
}

function listening(port: number, proto: "t" | "u" = "t"): boolean {
	return (
		sh(["nsenter", `--net=${hostNs}`, "ss", `-Hln${proto}`, `sport = :${port}`]).out.trim().length >
		0
	);
}

beforeAll(() => {
	requireBinary();
	if (!ok) return;
	copyFileSync(BIN, bin);
	chmodSync(bin, 0o755);
	chmodSync(work, 0o755);
	uid = Number(sh(["id", "-u", USER]).out.trim());
	if (!uid) throw new Error(`user ${USER} missing: run scripts/setup`);
	must(["ip", "netns", "add", HOST]);
	must(["ip", "netns", "add", WORLD]);
	must(["ip", "-n", HOST, "link", "add", UPLINK, "type", "veth", "peer", "name", "up0"]);
	must(["ip", "-n", HOST, "link", "set", "up0", "netns", WORLD]);
	for (const [ns, ifname, v4, v6] of [
		[HOST, UPLINK, HOST_IP, HOST_IP6],
		[WORLD, "up0", WORLD_IP, `fd38:${N.toString(16)}::1`],
	] as const) {
		must(["ip", "-n", ns, "link", "set", "lo", "up"]);
		must(["ip", "-n", ns, "addr", "add", `${v4}/24`, "dev", ifname]);
		must(["ip", "-n", ns, "addr", "add", `${v6}/64`, "dev", ifname, "nodad"]);
		must(["ip", "-n", ns, "link", "set", ifname, "up"]);
	}
	must(["ip", "-n", HOST, "route", "add", "default", "via", WORLD_IP]);
	must(["ip", "-n", HOST, "-6", "route", "add", "default", "via", `fd38:${N.toString(16)}::1`]);
});

afterAll(() => {
	// Nothing of this file's is left: no pasta, no namespace pin (then the test's own netns go).
	const left = { processes: processesMatching(work), mounts: mountsUnder(work), netns: [""] };
	if (ok) {
		sh(["ip", "netns", "del", HOST]); // takes the veth pair with it
		sh(["ip", "netns", "del", WORLD]);
	}
	left.netns = sh(["ip", "netns", "list"])
		.out.split("\n")
		.filter((l) => l.includes(tag));
	rmSync(work, { recursive: true, force: true });
	expect(left).toEqual({ processes: [], mounts: [], netns: [] });
});

for (const [who, make] of [
	["rootless", rootlessContainer],
	["root", async () => rootContainer()],
] as const) {
	describe.if(ok)(`pasta as ${who}`, () => {
		const base = who === "root" ? 18100 : 18200;

		test("the host's address and default route are copied; outbound reaches a test veth; the published TCP and UDP ports keep the client's address", async () => {
			const c = await make();
			const id = `tpa-${tag}-${who}-a`;
			try {
				const r = await c.ctrnet([
					"setup",
					id,
					...c.pidArgs,
					"--network",
					"pasta",
					"-p",
					`${base}:8080`,
					"-p",
					`${base + 1}:8081/udp`,
					"-p",
					`127.0.0.1:${base + 2}-${base + 3}:9000-9001`,
				]);
				expect(r.stderr).toBe("");
				expect(r.code).toBe(0);
				const inspect = JSON.parse(r.stdout);
				expect(inspect.NetworkSettings.IPAddress).toBe(HOST_IP);
				expect(inspect.NetworkSettings.IPPrefixLen).toBe(24);
				expect(inspect.NetworkSettings.Gateway).toBe(WORLD_IP);
				expect(inspect.NetworkSettings.GlobalIPv6Address).toBe(HOST_IP6);
				expect(inspect.NetworkSettings.Networks.pasta.Note).toContain("host's own address");
				expect(inspect.NetworkSettings.Networks.pasta.InterfaceName).toBe(UPLINK);

				// Inside: the copied address and default route (what `ip` shows there).
				const ns = c.netns();
				const addrs = sh(["nsenter", `--net=${ns}`, "ip", "-o", "addr", "show", UPLINK]).out;
				expect(addrs).toContain(`inet ${HOST_IP}/24`);
				expect(addrs).toContain(`inet6 ${HOST_IP6}/64`);
				expect(sh(["nsenter", `--net=${ns}`, "ip", "route", "show", "default"]).out).toContain(
					`default via ${WORLD_IP} dev ${UPLINK}`,
				);

				// pasta runs as the container's owner, with podman's arguments.
				const [pid] = pastaFor(id);
				expect(pid).toBeGreaterThan(0);
				const status = await Bun.file(`/proc/${pid}/status`).text();
				expect(status).toMatch(new RegExp(`^Uid:\\s+${who === "root" ? 0 : uid}\\s`, "m"));
				const argv = (await Bun.file(`/proc/${pid}/cmdline`).text()).split("\0").join(" ");
				expect(argv).toContain(
					`--config-net -t ${base}-${base}:8080-8080 -u ${base + 1}-${base + 1}:8081-8081 -t 127.0.0.1/${base + 2}-${base + 3}:9000-9001 --dns-forward 169.254.0.1 -T none -U none --no-map-gw --quiet`,
				);

				// Outbound to the world's veth address: the world sees the host's address.
				const out = peerServer(worldNs, 7000, WORLD_IP);
				try {
					expect(await tcpFrom(ns, WORLD_IP, 7000)).toBe(`peer ${HOST_IP}\n`);
				} finally {
					out.stop();
				}

				// Published ports, from a client on the world's veth address.
				const srv = peerServer(ns, 8080);
				const usrv = await udpPeerServer(ns, 8081);
				try {
					expect(await tcpFrom(worldNs, HOST_IP, base)).toBe(`peer ${WORLD_IP}\n`);
					expect(srv.peers).toEqual([WORLD_IP]);
					expect(await udpFrom(worldNs, HOST_IP, base + 1)).toBe(`peer ${WORLD_IP}\n`);
					expect(usrv.peers[0]).toBe(WORLD_IP);
				} finally {
					srv.stop();
					usrv.stop();
				}

				// ps and port show it like the others.
				const ps = JSON.parse((await c.ctrnet(["ps", "--format", "json"])).stdout);
				expect(ps).toEqual([
					expect.objectContaining({
						id,
						mode: "pasta",
						helpers: [{ kind: "pasta", pid, running: true }],
					}),
				]);
				expect((await c.ctrnet(["port", id])).stdout).toBe(
					[
						`8080/tcp -> 0.0.0.0:${base}`,
						`8081/udp -> 0.0.0.0:${base + 1}`,
						`9000/tcp -> 127.0.0.1:${base + 2}`,
						`9001/tcp -> 127.0.0.1:${base + 3}`,
						"",
					].join("\n"),
				);

				// Teardown stops pasta and frees the ports.
				expect(listening(base)).toBe(true);
				expect(listening(base + 1, "u")).toBe(true);
				const t = await c.ctrnet(["teardown", id]);
				expect(t.code).toBe(0);
				expect(await until(() => pastaFor(id).length === 0, 4000, 25)).toBe(true);
				expect(await until(() => !listening(base) && !listening(base + 1, "u"), 4000, 25)).toBe(
					true,
				);
				expect((await c.ctrnet(["ps", "--format", "json"])).stdout.trim()).toBe("[]");
			} finally {
				await c.cleanup();
			}
		});

		test("options pass through: -I names the interface, --map-gw sends the gateway address to the host", async () => {
			const c = await make();
			const hostSrv = peerServer(hostNs, 7100, "127.0.0.1");
			const worldSrv = peerServer(worldNs, 7100, WORLD_IP);
			try {
				const id = `tpa-${tag}-${who}-o`;
				const r = await c.ctrnet([
					"setup",
					id,
					...c.pidArgs,
					"--network",
					"pasta:-I,tpa0,--map-gw",
				]);
				expect(r.stderr).toBe("");
				const ns = c.netns();
				expect(sh(["nsenter", `--net=${ns}`, "ip", "-o", "link", "show", "tpa0"]).code).toBe(0);
				expect(JSON.parse(r.stdout).NetworkSettings.Networks.pasta.InterfaceName).toBe("tpa0");
				// The gateway's address now means the host: its loopback answers, not the world.
				const reply = await tcpFrom(ns, WORLD_IP, 7100);
				expect(reply).toStartWith("peer ");
				expect(hostSrv.peers.length).toBe(1);
				expect(worldSrv.peers).toEqual([]);
				expect((await c.ctrnet(["teardown", id])).code).toBe(0);

				// Without --map-gw (podman's default --no-map-gw) the gateway is the world.
				const id2 = `tpa-${tag}-${who}-g`;
				expect((await c.ctrnet(["setup", id2, ...c.pidArgs, "--network", "pasta"])).code).toBe(0);
				expect(await tcpFrom(c.netns(), WORLD_IP, 7100)).toBe(`peer ${HOST_IP}\n`);
				expect(hostSrv.peers.length).toBe(1);
				expect((await c.ctrnet(["teardown", id2])).code).toBe(0);
			} finally {
				hostSrv.stop();
				worldSrv.stop();
				await c.cleanup();
			}
		});

		test("reload starts a pasta that died again, with its ports", async () => {
			const c = await make();
			const id = `tpa-${tag}-${who}-r`;
			try {
				const r = await c.ctrnet([
					"setup",
					id,
					...c.pidArgs,
					"--network",
					"pasta",
					"-p",
					`${base + 20}:8080`,
				]);
				expect(r.code).toBe(0);
				const [first] = pastaFor(id);
				process.kill(first as number, "SIGKILL");
				expect(await until(() => !listening(base + 20), 4000, 25)).toBe(true);
				expect((await c.ctrnet(["reload", id])).code).toBe(0);
				const again = pastaFor(id);
				expect(again.length).toBe(1);
				expect(again).not.toContain(first);
				const srv = peerServer(c.netns(), 8080);
				try {
					expect(await tcpFrom(worldNs, HOST_IP, base + 20)).toBe(`peer ${WORLD_IP}\n`);
				} finally {
					srv.stop();
				}
				expect((await c.ctrnet(["teardown", id])).code).toBe(0);
				expect(
					await until(() => pastaFor(id).length === 0 && !listening(base + 20), 4000, 25),
				).toBe(true);
			} finally {
				await c.cleanup();
			}
		});

		test("bad input: pasta's own message, a port taken, a conflicting -t, pasta missing; nothing is left", async () => {
			const c = await make();
			const id = `tpa-${tag}-${who}-bad`;
			try {
				const cases: [string[], string, Record<string, string>?][] = [
					[["--network", "pasta:--bogus"], "Error: pasta failed with exit code 1: "],
					[
						["--network", "pasta:-t,18399", "-p", "18399:80"],
						'Error: host port 18399/tcp is published with --publish and forwarded by the pasta option "-t 18399" too: give it once',
					],
					[
						["--network", "pasta:-t,none", "-p", "18398:80"],
						'Error: --publish forwards tcp ports, which the pasta option "-t none" contradicts',
					],
					[
						["--network", "pasta:--netns,/run/netns/x"],
						'Error: pasta option "--netns" cannot be given',
					],
					[["--network", "pasta", "-p", "18397:80/sctp"], "Error: can't forward protocol: sctp"],
					[
						["--network", "pasta"],
						"Error: could not find pasta, the network namespace can't be configured: pasta is not in PATH (install the passt package)",
						{ PATH: "/nonexistent" },
					],
				];
				for (const [args, message, env] of cases) {
					const r = await c.ctrnet(["setup", id, ...c.pidArgs, ...args], env);
					expect(r.code).toBe(125);
					expect(r.stderr).toStartWith(message);
				}
				const bogus = await c.ctrnet(["setup", id, ...c.pidArgs, "--network", "pasta:--bogus"]);
				expect(bogus.stderr).toContain("unrecognized option '--bogus'");
				expect(bogus.stderr).not.toContain("syslog");
				expect(bogus.stderr).not.toContain("Usage:");

				// A port something on the host already holds.
				const busy = peerServer(hostNs, base + 50);
				try {
					const r = await c.ctrnet([
						"setup",
						id,
						...c.pidArgs,
						"--network",
						"pasta",
						"-p",
						`${base + 50}:80`,
					]);
					expect(r.code).toBe(125);
					expect(r.stderr).toContain(`host port ${base + 50}/tcp is already in use`);
				} finally {
					busy.stop();
				}
				expect((await c.ctrnet(["ps", "--format", "json"])).stdout.trim()).toBe("[]");
				expect(pastaFor(id)).toEqual([]);
			} finally {
				await c.cleanup();
			}
		});
	});
}

describe.if(ok)("pasta: gc after the container is gone", () => {
	for (const [who, make] of [
		["rootless", rootlessContainer],
		["root --pid", rootPidContainer],
	] as const) {
		test(`${who}: gc stops pasta and frees the port`, async () => {
			const c = await make();
			const id = `tpa-${tag}-gc-${c.who}`;
			const port = c.who === "root" ? 18300 : 18301;
			try {
				const r = await c.ctrnet([
					"setup",
					id,
					...c.pidArgs,
					"--network",
					"pasta",
					"-p",
					`${port}:80`,
				]);
				expect(r.stderr).toBe("");
				const [pid] = pastaFor(id);
				expect(pid).toBeGreaterThan(0);
				expect(listening(port)).toBe(true);
				c.kill();
				await Bun.sleep(300);
				// The container's end leaves pasta (holding the namespace and the port) to gc.
				expect(pastaFor(id)).toEqual([pid as number]);
				expect(listening(port)).toBe(true);
				const g = await c.ctrnet(["gc"]);
				expect(g.code).toBe(0);
				expect(g.stdout).toContain(`reclaimed ${id}`);
				expect(await until(() => pastaFor(id).length === 0, 4000, 25)).toBe(true);
				expect(await until(() => !listening(port), 4000, 25)).toBe(true);
				expect((await c.ctrnet(["ps", "--format", "json"])).stdout.trim()).toBe("[]");
			} finally {
				await c.cleanup();
			}
		});
	}
});

describe.if(ok)("pasta through the OCI hook", () => {
	test("io.ctrnet.network=pasta:… sets up at createRuntime; poststop stops pasta", async () => {
		const dir = `${work}/hook`;
		const bundle = `${dir}/bundle`;
		mkdirSync(bundle, { recursive: true });
		const spec = { ociVersion: "1.0.2", linux: { namespaces: [{ type: "network" }] } };
		await Bun.write(`${bundle}/config.json`, JSON.stringify(spec));
		const { pid, proc } = await containerProcess(["unshare", "-n", "sleep", "300"]);
		const id = `tpa-${tag}-hook`;
		const state = (status: string) =>
			JSON.stringify({
				ociVersion: "1.0.2",
				id,
				status,
				...(status === "stopped" ? {} : { pid }),
				bundle,
				annotations: { "io.ctrnet.network": "pasta:-I,tpa1", "io.ctrnet.publish": "18350:8080" },
			});
		const hook = (stage: string, status: string) => {
			const env = { ...rootStateEnv(dir) };
			const kv = Object.entries(env).map(([k, v]) => `${k}=${v}`);
			const p = Bun.spawn(["nsenter", `--net=${hostNs}`, "env", ...kv, bin, "hook", stage], {
				stdin: new TextEncoder().encode(state(status)),
				stdout: "pipe",
				stderr: "pipe",
			});
			return outputOf(p);
		};
		try {
			expect(await hook("createRuntime", "creating")).toEqual({ code: 0, stdout: "", stderr: "" });
			expect(pastaFor(id).length).toBe(1);
			expect(
				sh(["nsenter", `--net=/proc/${pid}/ns/net`, "ip", "-o", "addr", "show", "tpa1"]).out,
			).toContain(`inet ${HOST_IP}/24`);
			const srv = peerServer(`/proc/${pid}/ns/net`, 8080);
			try {
				expect(await tcpFrom(worldNs, HOST_IP, 18350)).toBe(`peer ${WORLD_IP}\n`);
			} finally {
				srv.stop();
			}
			proc.kill(9);
			await proc.exited;
			expect((await hook("poststop", "stopped")).code).toBe(0);
			expect(await until(() => pastaFor(id).length === 0, 4000, 25)).toBe(true);
			expect(await until(() => !listening(18350), 4000, 25)).toBe(true);
		} finally {
			proc.kill(9);
			await hook("poststop", "stopped");
			for (const m of mountsUnder(`${dir}/netns`).reverse()) sh(["umount", m]);
		}
	});
});

describe.if(ok)("pasta: the rootless default and info", () => {
	test("CTRNET_ROOTLESS_NETWORK=pasta makes pasta the default; slirp4netns otherwise", async () => {
		const c = await rootlessContainer();
		try {
			const id = `tpa-${tag}-default`;
			const r = await c.ctrnet(["setup", id, ...c.pidArgs], { CTRNET_ROOTLESS_NETWORK: "pasta" });
			expect(r.stderr).toBe("");
			expect(JSON.parse(r.stdout).NetworkSettings.IPAddress).toBe(HOST_IP);
			const ps = JSON.parse((await c.ctrnet(["ps", "--format", "json"])).stdout);
			expect(ps[0].mode).toBe("pasta");
			expect((await c.ctrnet(["teardown", id])).code).toBe(0);
			const flag = await c.ctrnet(["setup", id, ...c.pidArgs, "--rootless-network", "pasta"]);
			expect(JSON.parse(flag.stdout).NetworkSettings.Networks.pasta).toBeDefined();
			expect((await c.ctrnet(["teardown", id])).code).toBe(0);
			const info = JSON.parse((await c.ctrnet(["info", "--format", "json"])).stdout);
			expect(info.rootlessNetwork).toBe("slirp4netns");
			expect(info.pasta.path).toBe(Bun.which("pasta"));
			expect(info.pasta.version).toBeString();
			if (sh(["dpkg-query", "-W", "passt"]).code === 0)
				expect(info.pasta.package).toStartWith("passt_");
		} finally {
			await c.cleanup();
		}
	});
});
