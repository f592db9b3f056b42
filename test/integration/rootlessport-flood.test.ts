// rootlessport under a UDP flood (issue 10 item 14): many source ports, each a new flow, most of
// them gone before the container answers. The forwarder runs with a small fd limit, so an
// uncapped flow table would run it out of fds; it must keep serving TCP, keep its fd count and
// its log bounded, and survive replies to clients that left (ICMP port unreachable).
// Root: the container is a named netns (trlp-…) with 10.233.1.100 on its lo, made here.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, readdirSync } from "node:fs";
import { AF_INET, bind, close, SOCK_DGRAM, sendto, socket } from "../../ffi/libc";
import { inNetns } from "../../ffi/netns";
import { sockaddr } from "../../src/ip/address";
import { BIN, have, requireBinary } from "../lib/cli";
import {
	alive,
	freePort,
	pipe,
	readPipe,
	sh,
	tcpExchange,
	tcpServerIn,
	udpExchange,
	uniq,
} from "../lib/rootless";

const ok = have(["ip", "bash"], true);
const CHILD_IP = "10.233.1.100";
/** The forwarder's fd limit (soft and hard, so Bun cannot raise it). */
const NOFILE = 256;

function makeNetns() {
	const name = `trlp-${uniq()}`;
	sh(["ip", "netns", "add", name]);
	sh(["ip", "-n", name, "link", "set", "lo", "up"]);
	sh(["ip", "-n", name, "addr", "add", `${CHILD_IP}/32`, "dev", "lo"]);
	return { name, path: `/run/netns/${name}`, remove: () => sh(["ip", "netns", "del", name]) };
}

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

describe.skipIf(!ok)("rootlessport under a UDP flood", () => {
	let ns: ReturnType<typeof makeNetns>;
	beforeAll(() => {
		requireBinary();
		ns = makeNetns();
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
			const [exitR, exitW] = pipe();
			const [readyR, readyW] = pipe();
			const config = {
				Mappings: [
					{ host_ip: "127.0.0.1", container_port: srv.port, host_port: tcpPort, protocol: "tcp" },
					{ host_ip: "127.0.0.1", container_port: echo.port, host_port: udpPort, protocol: "udp" },
				],
				NetNSPath: ns.path,
				ExitFD: 3,
				ReadyFD: 4,
				TmpDir: "/tmp",
				ChildIP: CHILD_IP,
				ContainerID: "trlp-flood",
			};
			const proc = Bun.spawn(
				["bash", "-c", `ulimit -n ${NOFILE} && exec -a rootlessport "$0"`, BIN],
				{
					stdio: [new TextEncoder().encode(JSON.stringify(config)), "pipe", "pipe", exitR, readyW],
					env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
				},
			);
			closeSync(exitR);
			closeSync(readyW);
			const stderr = new Response(proc.stderr).text();
			try {
				expect(await readPipe(readyR)).toBe("1");
				const idle = fdCount(proc.pid);
				expect(await udpExchange("127.0.0.1", udpPort, "first")).toBe("echo:first");

				flood(udpPort, 3000);
				// While the flood's flows are alive (idle timeout 90 s) and their replies bounce:
				await Bun.sleep(300);
				expect(alive(proc.pid)).toBe(true);
				expect(await tcpExchange("127.0.0.1", tcpPort, "still\n", 3000)).toBe(
					`peer ${CHILD_IP}\nstill\nbye\n`,
				);
				// A quarter of the fds at most for UDP flows: the rest stays for TCP and the process.
				expect(fdCount(proc.pid) - idle).toBeLessThanOrEqual(NOFILE / 4);
				// A new client still gets through (the oldest flows made room).
				expect(await udpExchange("127.0.0.1", udpPort, "later")).toBe("echo:later");

				flood(udpPort, 3000);
				await Bun.sleep(300);
				expect(await tcpExchange("127.0.0.1", tcpPort, "again\n", 3000)).toBe(
					`peer ${CHILD_IP}\nagain\nbye\n`,
				);
				expect(alive(proc.pid)).toBe(true);
			} finally {
				closeSync(exitW);
				closeSync(readyR);
			}
			expect(await proc.exited).toBe(0);
			const log = await stderr;
			// Bounded: no stack per datagram, no line per flow; the repeated ones are summarised.
			expect(log.length).toBeLessThan(8192);
			expect(log).not.toContain("    at ");
			srv.stop();
			echo.close();
		},
	);
});
