// ctrnet re-executed as rootlessport, driven directly with a podman-4-style config (fds 3/4 real
// pipes), and through startRootlessport(). Root: the container is a named netns made here.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, rmSync } from "node:fs";
import { startRootlessport } from "../../src/helpers/rootlessport";
import { stopHelper } from "../../src/helpers/stop";
import { FlowTable } from "../../src/rootlessport/flows";
import { listenUdp, type UdpFlow } from "../../src/rootlessport/udp";
import { have, requireBinary } from "../lib/cli";
import { alive, must } from "../lib/host";
import {
	freePort,
	makeNetns,
	portFree,
	spawnForwarder,
	tcpExchange,
	tcpServerIn,
	testUser,
	udpEchoIn,
	udpExchange,
	waitGone,
	waitPortFree,
} from "../lib/rootless";

const ok = have(["ip"], true);
const CHILD_IP = "10.77.0.100";

/** Pids of running forwarders (argv0 rootlessport). */
function forwarders(): string[] {
	return Bun.spawnSync(["pgrep", "-f", "^rootlessport( |$)"])
		.stdout.toString()
		.split("\n")
		.filter(Boolean);
}

describe.skipIf(!ok)("rootlessport started directly (podman's contract)", () => {
	let ns: ReturnType<typeof makeNetns>;
	beforeAll(() => {
		requireBinary();
		ns = makeNetns([CHILD_IP]);
	});
	afterAll(() => ns?.remove());

	test.each([
		["splice", {}],
		["js", { CTRNET_ROOTLESSPORT_ENGINE: "js" }],
	])(
		"%s engine: forwards TCP (v4 and v6 host IPs, half-close) and UDP, ready on fd 4, exits at EOF of fd 3",
		async (engine, env) => {
			const srv = tcpServerIn(ns.path, 0);
			const echo = await udpEchoIn(ns.path, 8001);
			const [p1, p2, p3] = [freePort(), freePort(), freePort()];
			const f = spawnForwarder(
				{
					Mappings: [
						{
							host_ip: "127.0.0.1",
							container_port: srv.port,
							host_port: p1,
							range: 1,
							protocol: "tcp",
						},
						{ host_ip: "::1", container_port: srv.port, host_port: p2, range: 1, protocol: "tcp" },
						{
							host_ip: "127.0.0.1",
							container_port: 8001,
							host_port: p3,
							range: 1,
							protocol: "udp",
						},
					],
					NetNSPath: ns.path,
					ExitFD: 3,
					ReadyFD: 4,
					TmpDir: "/tmp",
					ChildIP: CHILD_IP,
					ContainerID: "t7-direct",
				},
				{ env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } },
			);
			try {
				expect(await f.ready).toBe("1");
				// The server answers after our FIN: the reply must still come back (half-close).
				expect(await tcpExchange("127.0.0.1", p1, "hello\n")).toBe(
					`peer ${CHILD_IP}\nhello\nbye\n`,
				);
				expect(await tcpExchange("::1", p2, "six\n")).toBe(`peer ${CHILD_IP}\nsix\nbye\n`);
				expect(srv.peers.length).toBe(2);
				for (const p of srv.peers) expect(p).not.toStartWith("127.");
				expect(await udpExchange("127.0.0.1", p3, "ping")).toBe("echo:ping");
				expect(portFree(p1)).toBe(false);
			} finally {
				f.stop();
			}
			expect(await f.proc.exited).toBe(0);
			expect(await f.stdout).toBe("");
			expect(await f.stderr).toContain(`-> ${CHILD_IP}:${srv.port} (${engine})`);
			expect(await waitPortFree(p1)).toBe(true);
			expect(await waitPortFree(p2, "::1")).toBe(true);
			srv.stop();
			echo.stop();
		},
	);

	/** The forwarder's UDP flow sockets inside the netns, connected to the container's `port`. */
	const udpFlowsTo = (port: number) =>
		must(["ip", "netns", "exec", ns.name, "ss", "-Hun", "dst", `${CHILD_IP}:${port}`])
			.split("\n")
			.filter(Boolean).length;

	test("UDP: one flow socket per client inside the netns, closed after the idle timeout", async () => {
		const echo = await udpEchoIn(ns.path, 8002);
		const port = freePort();
		const flows = () => udpFlowsTo(8002);
		const fwd = await listenUdp(
			{ proto: "udp", hostIP: "127.0.0.1", hostPort: port, containerPort: 8002 },
			ns.path,
			CHILD_IP,
			{ idleMs: 300 },
		);
		try {
			expect(await udpExchange("127.0.0.1", port, "a")).toBe("echo:a");
			expect(await udpExchange("127.0.0.1", port, "b")).toBe("echo:b"); // another client port
			expect(flows()).toBe(2);
			await Bun.sleep(900);
			expect(flows()).toBe(0);
		} finally {
			fwd.close();
			echo.stop();
		}
	});

	test("UDP ports sharing a flow table share its idle sweep; it goes on after one port closes", async () => {
		const echo = await udpEchoIn(ns.path, 8003);
		const flows = () => udpFlowsTo(8003);
		const table = new FlowTable<UdpFlow>(64);
		const [p1, p2] = [freePort(), freePort()];
		const listen = (hostPort: number) =>
			listenUdp(
				{ proto: "udp", hostIP: "127.0.0.1", hostPort, containerPort: 8003 },
				ns.path,
				CHILD_IP,
				{
					idleMs: 300,
					table,
				},
			);
		const a = await listen(p1);
		const b = await listen(p2);
		try {
			expect(await udpExchange("127.0.0.1", p1, "a")).toBe("echo:a");
			expect(await udpExchange("127.0.0.1", p2, "b")).toBe("echo:b");
			expect(flows()).toBe(2);
			await Bun.sleep(900);
			expect(flows()).toBe(0);
			a.close(); // the sweep is b's too: it must go on
			expect(await udpExchange("127.0.0.1", p2, "c")).toBe("echo:c");
			expect(flows()).toBe(1);
			await Bun.sleep(900);
			expect(flows()).toBe(0);
		} finally {
			a.close();
			b.close();
			echo.stop();
		}
	});

	test("SIGTERM stops it with exit 0", async () => {
		const p = freePort();
		const f = spawnForwarder({
			Mappings: [{ hostIP: "127.0.0.1", hostPort: p, containerPort: 80, protocol: "tcp" }],
			NetNSPath: ns.path,
			ExitFD: 3,
			ReadyFD: 4,
			ChildIP: CHILD_IP,
		});
		expect(await f.ready).toBe("1");
		f.proc.kill("SIGTERM");
		expect(await f.proc.exited).toBe(0);
		f.stop();
		expect(await waitPortFree(p)).toBe(true);
	});

	test("a refused connection inside closes the client's, and the forwarder goes on", async () => {
		const p = freePort();
		const f = spawnForwarder({
			Mappings: [{ hostIP: "127.0.0.1", hostPort: p, containerPort: 9, protocol: "tcp" }],
			NetNSPath: ns.path,
			ExitFD: 3,
			ReadyFD: 4,
			ChildIP: CHILD_IP,
		});
		expect(await f.ready).toBe("1");
		expect(await tcpExchange("127.0.0.1", p, "x")).toBe("");
		expect(alive(f.proc.pid)).toBe(true);
		f.stop();
		expect(await f.proc.exited).toBe(0);
	});

	test("address in use: one line on stdout, exit 1, nothing left listening", async () => {
		const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
		const other = freePort();
		try {
			const f = spawnForwarder({
				Mappings: [
					{ hostIP: "127.0.0.1", hostPort: other, containerPort: 80, protocol: "tcp" },
					{ hostIP: "127.0.0.1", hostPort: busy.port, containerPort: 80, protocol: "tcp" },
				],
				NetNSPath: ns.path,
				ExitFD: 3,
				ReadyFD: 4,
				ChildIP: CHILD_IP,
			});
			expect(await f.proc.exited).toBe(1);
			expect(await f.ready).toBe("");
			expect(await f.stdout).toBe(
				`listen tcp 127.0.0.1:${busy.port}: bind: address already in use\n`,
			);
			f.stop();
			expect(await waitPortFree(other)).toBe(true);
		} finally {
			busy.stop(true);
		}
	});

	test("podman's config errors", async () => {
		for (const [config, line] of [
			[{ ExitFD: 3, ReadyFD: 4 }, "missing NetNSPath"],
			[{ NetNSPath: ns.path, ReadyFD: 4 }, "missing ExitFD"],
			[{ NetNSPath: ns.path, ExitFD: 3 }, "missing ReadyFD"],
			[
				{ NetNSPath: "/run/netns/t7-nonexistent", ExitFD: 3, ReadyFD: 4 },
				"open /run/netns/t7-nonexistent: no such file or directory",
			],
		] as const) {
			const f = spawnForwarder(config);
			expect(await f.proc.exited).toBe(1);
			expect(await f.stdout).toBe(`${line}\n`);
			f.stop();
		}
	});

	test("privileged port as an unprivileged user: podman's advice with the real sysctl", async () => {
		const user = testUser();
		if (!user) return;
		rmSync(user.dir, { recursive: true, force: true });
		const { uid, gid } = user;
		const start = Number(
			(await Bun.file("/proc/sys/net/ipv4/ip_unprivileged_port_start").text()).trim(),
		);
		if (start <= 80) return; // the host allows it: nothing to check
		const f = spawnForwarder(
			{
				Mappings: [{ hostIP: "", hostPort: 80, containerPort: 80, protocol: "tcp" }],
				NetNSPath: ns.path,
				ExitFD: 3,
				ReadyFD: 4,
				ChildIP: CHILD_IP,
			},
			{ uid, gid },
		);
		expect(await f.proc.exited).toBe(1);
		expect(await f.stdout).toBe(
			`cannot expose privileged port 80, you can add 'net.ipv4.ip_unprivileged_port_start=80' to /etc/sysctl.conf (currently ${start}), or choose a larger port number (>= ${start}): listen tcp 0.0.0.0:80: bind: permission denied\n`,
		);
		f.stop();
	});
});

describe.skipIf(!ok)("startRootlessport / stopHelper", () => {
	let ns: ReturnType<typeof makeNetns>;
	beforeAll(() => {
		ns = makeNetns([CHILD_IP]);
	});
	afterAll(() => ns?.remove());

	test("starts detached, forwards, survives without an exit pipe, stops by pid", async () => {
		const srv = tcpServerIn(ns.path, 0);
		const p = freePort();
		const r = await startRootlessport({
			mappings: [{ hostIP: "127.0.0.1", hostPort: p, containerPort: srv.port, protocol: "tcp" }],
			netnsPath: ns.path,
			childIP: CHILD_IP,
			containerId: "t7-lib",
			tmpDir: "/tmp",
		});
		try {
			expect(r.exitWriteFd).toBeNull();
			expect(alive(r.pid)).toBe(true);
			// Its own session; fds: no leftovers of ours but its logs (unlinked) and sockets.
			const stat = (await Bun.file(`/proc/${r.pid}/stat`).text()).split(") ")[1]?.split(" ");
			expect(Number(stat?.[3])).toBe(r.pid); // session id
			expect(await tcpExchange("127.0.0.1", p, "lib\n")).toBe(`peer ${CHILD_IP}\nlib\nbye\n`);
		} finally {
			expect(await stopHelper(r)).toBe(true);
		}
		expect(await waitGone(r.pid)).toBe(true);
		expect(await stopHelper(r)).toBe(false);
		expect(await waitPortFree(p)).toBe(true);
		srv.stop();
	});

	test("holdExit: closing the write end stops it", async () => {
		const r = await startRootlessport({
			mappings: [{ hostIP: "127.0.0.1", hostPort: freePort(), containerPort: 80, protocol: "udp" }],
			netnsPath: ns.path,
			childIP: CHILD_IP,
			containerId: "t7-hold",
			tmpDir: "/tmp",
			holdExit: true,
		});
		expect(r.exitWriteFd).toBeNumber();
		closeSync(r.exitWriteFd as number);
		expect(await waitGone(r.pid)).toBe(true);
	});

	test("failure: `rootlessport <line>`, nothing left running", async () => {
		const before = forwarders();
		const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
		try {
			await expect(
				startRootlessport({
					mappings: [
						{ hostIP: "127.0.0.1", hostPort: busy.port, containerPort: 80, protocol: "tcp" },
					],
					netnsPath: ns.path,
					childIP: CHILD_IP,
					containerId: "t7-fail",
					tmpDir: "/tmp",
				}),
			).rejects.toThrow(
				`rootlessport listen tcp 127.0.0.1:${busy.port}: bind: address already in use`,
			);
		} finally {
			busy.stop(true);
		}
		for (const pid of forwarders()) expect(before).toContain(pid);
	});
});
