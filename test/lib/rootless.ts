// Fixtures for the rootless-networking tests: throw-away named netns, servers living inside one,
// a rootlessport started with its fds 3/4, and leftover checks. Names start with t7- (or a prefix
// the test passes) so a test only ever looks at (and removes) what it made itself.
import { chownSync, closeSync, mkdtempSync, readFileSync, readSync } from "node:fs";
import { O_CLOEXEC, POLLIN, pipe2, pollOne } from "../../ffi/libc";
import { inNetns } from "../../ffi/netns";
import { stopProcess } from "../../src/helpers/stop";
import { hostPortTaken } from "../../src/ports/probe";
import { identify } from "../../src/process/identity";
import { BIN } from "./cli";
import { alive, must } from "./host";

export const uniq = () => Math.random().toString(36).slice(2, 8);

/** A named netns `<prefix>-…` with lo up; each of `addrs` (e.g. "10.77.0.100") on lo as a /32. */
export function makeNetns(
	addrs: string[] = [],
	prefix = "t7",
): { name: string; path: string; remove(): void } {
	const name = `${prefix}-${uniq()}`;
	must(["ip", "netns", "add", name]);
	must(["ip", "-n", name, "link", "set", "lo", "up"]);
	for (const addr of addrs) must(["ip", "-n", name, "addr", "add", `${addr}/32`, "dev", "lo"]);
	return {
		name,
		path: `/run/netns/${name}`,
		remove: () => {
			Bun.spawnSync(["ip", "netns", "del", name]);
		},
	};
}

/** Is `path` still a mount point (a named netns that survived)? */
export function isMounted(path: string): boolean {
	return readFileSync("/proc/self/mountinfo", "utf8")
		.split("\n")
		.some((l) => l.split(" ")[4] === path);
}

export interface TcpServer {
	port: number;
	peers: string[];
	stop(): void;
}

/**
 * A TCP server inside the netns: greets with `peer <addr>`, echoes, and on the client's FIN
 * answers `bye` and then shuts its own side (a half-close check).
 */
export function tcpServerIn(netnsPath: string, port: number): TcpServer {
	const peers: string[] = [];
	const l = inNetns(netnsPath, () =>
		Bun.listen({
			hostname: "0.0.0.0",
			port,
			allowHalfOpen: true,
			socket: {
				open(s) {
					peers.push(s.remoteAddress);
					s.write(`peer ${s.remoteAddress}\n`);
				},
				data(s, d) {
					s.write(d);
				},
				end(s) {
					setTimeout(() => {
						s.write("bye\n");
						s.shutdown();
					}, 20);
				},
			},
		}),
	);
	return { port: l.port, peers, stop: () => l.stop(true) };
}

/** A UDP echo server inside the netns: answers `echo:<data>`. */
export async function udpEchoIn(netnsPath: string, port: number): Promise<{ stop(): void }> {
	const { made } = inNetns(netnsPath, () => ({
		made: Bun.udpSocket({
			hostname: "0.0.0.0",
			port,
			socket: {
				data(s, buf, p, a) {
					s.send(Buffer.concat([Buffer.from("echo:"), buf]), p, a);
				},
			},
		}),
	}));
	const u = await made;
	return { stop: () => u.close() };
}

/** Connects, writes `msg`, half-closes, returns everything read until the server closes. */
export async function tcpExchange(host: string, port: number, msg: string, timeoutMs = 5000) {
	return new Promise<string>((resolve, reject) => {
		let got = "";
		const t = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(got)}`)), timeoutMs);
		Bun.connect({
			hostname: host,
			port,
			allowHalfOpen: true,
			socket: {
				open(s) {
					s.write(msg);
					s.shutdown();
				},
				data(_s, d) {
					got += d.toString();
				},
				close() {
					clearTimeout(t);
					resolve(got);
				},
				connectError(_s, e) {
					clearTimeout(t);
					reject(e);
				},
			},
		}).catch(() => {});
	});
}

export async function udpExchange(host: string, port: number, msg: string, timeoutMs = 3000) {
	return new Promise<string>((resolve, reject) => {
		const t = setTimeout(() => reject(new Error("udp timeout")), timeoutMs);
		Bun.udpSocket({
			socket: {
				data(s, buf) {
					clearTimeout(t);
					s.close();
					resolve(buf.toString());
				},
			},
		}).then((s) => s.send(msg, port, host), reject);
	});
}

/** A real pipe, both ends close-on-exec here: [read, write]. */
export const pipe = () => pipe2(O_CLOEXEC);

/**
 * First bytes from a pipe ("" at EOF), polled from the JS thread: an fs.read queued on Bun's
 * thread pool can outlive its fd and hit whatever reuses the number (see src/slirp/helper.ts).
 */
export async function readPipe(fd: number, timeoutMs = 10_000): Promise<string> {
	const end = Date.now() + timeoutMs;
	const b = Buffer.alloc(16);
	while (!pollOne(fd, POLLIN, 0)) {
		if (Date.now() > end) return "";
		await Bun.sleep(2);
	}
	const n = readSync(fd, b, 0, 16, null);
	return b.toString("utf8", 0, n);
}

/**
 * Starts a rootlessport the way podman does: the config as JSON on stdin, fd 3 the read end of
 * the exit pipe (`stop()` closes its write end: EOF tells the forwarder to exit), fd 4 the write
 * end of the ready pipe (`ready`: what it wrote there first, "" at EOF or after 10 s). Runs
 * dist/ctrnet as argv0 "rootlessport", or `cmd` as given (podman's own rootlessport, or a wrapper
 * that sets limits or namespaces first). Without `env`, the child gets this process's.
 */
export function spawnForwarder(
	config: object,
	opts: {
		cmd?: string[];
		argv0?: string;
		env?: Record<string, string>;
		uid?: number;
		gid?: number;
	} = {},
) {
	const { cmd, ...spawnOpts } = opts;
	const [exitR, exitW] = pipe();
	const [readyR, readyW] = pipe();
	const proc = Bun.spawn(cmd ?? [BIN], {
		...(cmd ? {} : { argv0: "rootlessport" }),
		...spawnOpts,
		stdio: [new TextEncoder().encode(JSON.stringify(config)), "pipe", "pipe", exitR, readyW],
	});
	closeSync(exitR);
	closeSync(readyW);
	const ready = readPipe(readyR).finally(() => closeSync(readyR));
	const stdout = new Response(proc.stdout).text();
	const stderr = new Response(proc.stderr).text();
	return { proc, ready, stdout, stderr, stop: () => closeSync(exitW) };
}

/** A TCP port nothing listens on right now (on 127.0.0.1). */
export function freePort(): number {
	const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
	const p = l.port;
	l.stop(true);
	return p;
}

/**
 * True when nothing holds 127.0.0.1:port any more. Asked with ctrnet's own probe (bind with
 * SO_REUSEADDR): a connection of the test's own left in TIME_WAIT does not hold the port.
 */
export function portFree(port: number, hostname = "127.0.0.1"): boolean {
	return !hostPortTaken("tcp", port, hostname);
}

/**
 * Waits (up to `ms`) for the port to be free: a stopped helper's listening socket can outlive its
 * exit by a moment (seen here: the process already a zombie, the bind still refused).
 */
export async function waitPortFree(
	port: number,
	hostname = "127.0.0.1",
	ms = 2000,
): Promise<boolean> {
	const end = Date.now() + ms;
	while (!portFree(port, hostname)) {
		if (Date.now() > end) return false;
		await Bun.sleep(10);
	}
	return true;
}

/** Stops a helper known only by pid (as a child process of a runner script reported it). */
export async function stopPid(pid: number): Promise<boolean> {
	const p = identify(pid);
	return p ? stopProcess(p) : false;
}

export async function waitGone(pid: number, ms = 3000): Promise<boolean> {
	const end = Date.now() + ms;
	while (alive(pid)) {
		if (Date.now() > end) return false;
		await Bun.sleep(20);
	}
	return true;
}

/**
 * The unprivileged test user (scripts/setup creates `ctrnet-test`), with a private temp dir it
 * owns; null when missing on a developer's machine, an error in CI.
 */
export function testUser(): { uid: number; gid: number; dir: string } | null {
	if (Bun.spawnSync(["id", "ctrnet-test"]).exitCode !== 0) {
		if (process.env.CI === "true") throw new Error("user ctrnet-test missing (scripts/setup)");
		console.warn("skipping: user ctrnet-test missing (scripts/setup)");
		return null;
	}
	const uid = Number(Bun.spawnSync(["id", "-u", "ctrnet-test"]).stdout.toString());
	const gid = Number(Bun.spawnSync(["id", "-g", "ctrnet-test"]).stdout.toString());
	const dir = mkdtempSync("/tmp/t7-rootless-");
	chownSync(dir, uid, gid);
	return { uid, gid, dir };
}
