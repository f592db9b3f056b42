// rootlessport under pressure (issue 10 item 14), with a small fd limit so that anything
// uncapped runs it out of fds:
// - a UDP flood from many source ports, each a new flow, most of them gone before the container
//   answers: it must keep serving TCP, keep its fd count and its log bounded, and survive replies
//   to clients that left (ICMP port unreachable);
// - more TCP connections than its cap: the extra ones are refused at once, the rest served.
// Root: the container is a named netns (trlp-…) with 10.233.1.100 on its lo, made here.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { AF_INET, bind, close, SOCK_DGRAM, sendto, socket } from "../../ffi/libc";
import { inNetns } from "../../ffi/netns";
import { sockaddr } from "../../src/ip/address";
import { capsFor } from "../../src/rootlessport/limits";
import { BIN, have, requireBinary } from "../lib/cli";
import { alive } from "../lib/host";
import {
	freePort,
	makeNetns,
	spawnForwarder,
	tcpExchange,
	tcpServerIn,
	udpExchange,
} from "../lib/rootless";

const ok = have(["ip", "bash"], true);
const CHILD_IP = "10.233.1.100";
/** The forwarder's fd limit (soft and hard, so Bun cannot raise it). */
const NOFILE = 256;

/** A UDP server inside the netns that answers every datagram twice, the second time late. */
async function slowEchoIn(netnsPath: string) {
	const { made } = inNetns(netnsPath, () => ({
		made: Bun.udpSocket({
			hostname: CHILD_IP,
			port: 0,
			socket: {
				data(s, buf, p, a) {
					// The forwarder closes flows (cap, departed clients): sends to them fail here.
					const send = (msg: string | Buffer) => {
						try {
							if (!s.closed) s.send(msg, p, a);
						} catch {}
					};
					send(Buffer.concat([Buffer.from("echo:"), buf]));
					setTimeout(() => send("late"), 50);
				},
				error() {},
			},
		}),
	}));
	return await made;
}

/**
 * `count` datagrams, each from its own source port on 127.0.0.1, in batches whose sockets are
 * closed right after sending: most replies find nobody there (the kernel answers them with ICMP
 * port unreachable).
 */
function flood(port: number, count: number, batch = 200): void {
	const to = sockaddr("127.0.0.1", port).addr;
	const from = sockaddr("127.0.0.1", 0).addr;
	const msg = Buffer.from("x");
	for (let sent = 0; sent < count; sent += batch) {
		const fds: number[] = [];
		try {
			for (let i = 0; i < batch; i++) {
				const fd = socket(AF_INET, SOCK_DGRAM, 0);
				fds.push(fd);
				bind(fd, from);
				sendto(fd, msg, 0, to);
			}
		} finally {
			for (const fd of fds) close(fd);
		}
	}
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** Starts dist/ctrnet as rootlessport under an fd limit of NOFILE; fds 3/4 are real pipes. */
function spawnLimited(config: object, env: Record<string, string>) {
	return spawnForwarder(config, {
		cmd: ["bash", "-c", `ulimit -n ${NOFILE} && exec -a rootlessport "$0"`, BIN],
		env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
	});
}

/** A client connection that records whether the server greeted it and whether it was closed. */
function client(port: number) {
	const state = { greeted: false, closed: false, sock: null as null | { shutdown(): void } };
	Bun.connect({
		hostname: "127.0.0.1",
		port,
		allowHalfOpen: true,
		socket: {
			open(s) {
				state.sock = s;
			},
			data() {
				state.greeted = true;
			},
			close() {
				state.closed = true;
			},
			error() {},
			connectError() {
				state.closed = true;
			},
		},
	}).catch(() => {});
	return state;
}

const threads = (pid: number) =>
	Number(/Threads:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

describe.skipIf(!ok)(`rootlessport under pressure, with ${NOFILE} fds`, () => {
	let ns: ReturnType<typeof makeNetns>;
	beforeAll(() => {
		requireBinary();
		ns = makeNetns([CHILD_IP], "trlp");
	});
	afterAll(() => {
		ns?.remove();
		expect(ns && existsSync(ns.path)).toBe(false);
	});

	test.each([
		["splice", {}],
		["js", { CTRNET_ROOTLESSPORT_ENGINE: "js" }],
	])(
		"%s engine: TCP keeps serving, fds and log stay bounded, replies to departed clients are harmless",
		async (_engine, env) => {
			const srv = tcpServerIn(ns.path, 0);
			const echo = await slowEchoIn(ns.path);
			const [tcpPort, udpPort] = [freePort(), freePort()];
			const f = spawnLimited(
				{
					Mappings: [
						{ host_ip: "127.0.0.1", container_port: srv.port, host_port: tcpPort, protocol: "tcp" },
						{
							host_ip: "127.0.0.1",
							container_port: echo.port,
							host_port: udpPort,
							protocol: "udp",
						},
					],
					NetNSPath: ns.path,
					ExitFD: 3,
					ReadyFD: 4,
					TmpDir: "/tmp",
					ChildIP: CHILD_IP,
					ContainerID: "trlp-flood",
				},
				env,
			);
			const pid = f.proc.pid;
			try {
				expect(await f.ready).toBe("1");
				const idle = fdCount(pid);
				expect(await udpExchange("127.0.0.1", udpPort, "first")).toBe("echo:first");

				flood(udpPort, 3000);
				// While the flood's flows are alive (idle timeout 90 s) and their replies bounce:
				await Bun.sleep(300);
				expect(alive(pid)).toBe(true);
				expect(await tcpExchange("127.0.0.1", tcpPort, "still\n", 3000)).toBe(
					`peer ${CHILD_IP}\nstill\nbye\n`,
				);
				// A quarter of the fds at most for UDP flows: the rest stays for TCP and the process.
				expect(fdCount(pid) - idle).toBeLessThanOrEqual(NOFILE / 4);
				// A new client still gets through (the oldest flows made room).
				expect(await udpExchange("127.0.0.1", udpPort, "later")).toBe("echo:later");

				flood(udpPort, 3000);
				await Bun.sleep(300);
				expect(await tcpExchange("127.0.0.1", tcpPort, "again\n", 3000)).toBe(
					`peer ${CHILD_IP}\nagain\nbye\n`,
				);
				expect(alive(pid)).toBe(true);
			} finally {
				f.stop();
			}
			expect(await f.proc.exited).toBe(0);
			const log = await f.stderr;
			// Bounded: no stack per datagram, no line per flow; the repeated ones are summarised.
			expect(log.length).toBeLessThan(8192);
			expect(log).not.toContain("    at ");
			srv.stop();
			echo.close();
		},
	);

	test.each([
		["splice", {}, 6],
		["js", { CTRNET_ROOTLESSPORT_ENGINE: "js" }, 2],
	])(
		"%s engine: at most the capped number of TCP connections at once; more are refused at once",
		async (_engine, env, fdsPerConn) => {
			const srv = tcpServerIn(ns.path, 0);
			const port = freePort();
			const cap = capsFor({
				nofile: NOFILE,
				listeners: 1,
				tcp: true,
				udp: false,
				fdsPerConn,
			}).tcpConns;
			const f = spawnLimited(
				{
					Mappings: [
						{ hostIP: "127.0.0.1", hostPort: port, containerPort: srv.port, protocol: "tcp" },
					],
					NetNSPath: ns.path,
					ExitFD: 3,
					ReadyFD: 4,
					ChildIP: CHILD_IP,
				},
				env,
			);
			const clients: ReturnType<typeof client>[] = [];
			try {
				expect(await f.ready).toBe("1");
				const idleThreads = threads(f.proc.pid);
				for (let i = 0; i < cap + 10; i++) clients.push(client(port));
				const settled = () => clients.every((c) => c.greeted || c.closed);
				for (let i = 0; i < 300 && !settled(); i++) await Bun.sleep(10);
				// Served ones are open and greeted; the rest were refused at once, not left hanging.
				expect(clients.filter((c) => c.greeted && !c.closed).length).toBe(cap);
				expect(clients.filter((c) => c.closed && !c.greeted).length).toBe(10);
				if (fdsPerConn === 6) expect(threads(f.proc.pid) - idleThreads).toBeLessThanOrEqual(cap);
				expect(fdCount(f.proc.pid)).toBeLessThan(NOFILE);
				// Once some close, there is room again.
				for (const c of clients.slice(0, 5)) c.sock?.shutdown();
				await Bun.sleep(200);
				expect(await tcpExchange("127.0.0.1", port, "room\n", 3000)).toBe(
					`peer ${CHILD_IP}\nroom\nbye\n`,
				);
			} finally {
				for (const c of clients) c.sock?.shutdown();
				f.stop();
			}
			expect(await f.proc.exited).toBe(0);
			expect(await f.stderr).toContain(`connection limit (${cap} open) reached`);
			srv.stop();
		},
	);
});
