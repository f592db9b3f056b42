// podman 4's rootless-CNI mode (config RootlessCNI: true): the forwarder serves the reload socket
// TmpDir/rp/<ContainerID>, and a JSON string IP sent there switches the address new connections
// and flows dial. Root: the container is a named netns (trlp-…) with two addresses on its lo,
// A and B, each with its own TCP and UDP server, so a reply says which one was dialled.
// Also: reloadChildIP() against podman's own rootlessport (the same protocol from both ends).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { inNetns } from "../../ffi/netns";
import { packetExchange } from "../../ffi/unix-packet";
import { reloadChildIP, reloadSocketPath } from "../../src/rootlessport/reload";
import { have, requireBinary } from "../lib/cli";
import { must } from "../lib/host";
import {
	freePort,
	makeNetns,
	spawnForwarder,
	tcpExchange,
	udpExchange,
	uniq,
} from "../lib/rootless";

const ok = have(["ip"], true);
const A = "10.233.3.100";
const B = "10.233.3.101";
const PODMAN_RP = "/usr/lib/podman/rootlessport";

/** TCP and UDP servers on `ip`:`port` in the netns; both answer `<ip>:<what they got>`. */
async function serversOn(netnsPath: string, ip: string, port: number) {
	return inNetns(netnsPath, () => {
		const tcp = Bun.listen({
			hostname: ip,
			port,
			allowHalfOpen: true,
			socket: {
				data(s, d) {
					s.write(`${ip}:${d}`);
				},
				end(s) {
					s.shutdown();
				},
			},
		});
		const udp = Bun.udpSocket({
			hostname: ip,
			port,
			socket: {
				data(s, buf, p, a) {
					s.send(`${ip}:${buf}`, p, a);
				},
			},
		});
		return { tcp, udp };
	});
}

/** A free port for both TCP and UDP servers inside the netns (nothing else listens there). */
const PORT = 8080;

/** The forwarders' environment: PATH only. */
const ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

describe.skipIf(!ok)("rootlessport with RootlessCNI: the reload socket", () => {
	let ns: ReturnType<typeof makeNetns>;
	let servers: Awaited<ReturnType<typeof serversOn>>[];
	/** Every TmpDir of these tests is under it; removed at the end, also after a failure. */
	let base: string;
	beforeAll(async () => {
		requireBinary();
		base = mkdtempSync("/tmp/trlp-reload-");
		ns = makeNetns([A, B], "trlp");
		servers = [await serversOn(ns.path, A, PORT), await serversOn(ns.path, B, PORT)];
		for (const s of servers) await s.udp;
	});
	afterAll(async () => {
		for (const s of servers ?? []) {
			s.tcp.stop(true);
			(await s.udp).close();
		}
		ns?.remove();
		expect(ns && existsSync(ns.path)).toBe(false);
		if (base) rmSync(base, { recursive: true, force: true });
	});

	/** A RootlessCNI config into the test's netns, towards A, with these mappings and fields. */
	const cniConfig = (fields: Record<string, unknown>) => ({
		NetNSPath: ns.path,
		ExitFD: 3,
		ReadyFD: 4,
		ChildIP: A,
		RootlessCNI: true,
		...fields,
	});

	test.each([
		["splice", {}],
		["js", { CTRNET_ROOTLESSPORT_ENGINE: "js" }],
	])(
		"%s engine: reload switches new connections and flows; a bad address changes nothing",
		async (_engine, env) => {
			const tmpDir = mkdtempSync(`${base}/t-`);
			const id = `trlp${uniq()}`;
			const [tcpPort, udpPort] = [freePort(), freePort()];
			const config = cniConfig({
				Mappings: [
					{ host_ip: "127.0.0.1", container_port: PORT, host_port: tcpPort, protocol: "tcp" },
					{ host_ip: "127.0.0.1", container_port: PORT, host_port: udpPort, protocol: "udp" },
				],
				TmpDir: tmpDir,
				ContainerID: id,
			});
			const f = spawnForwarder(config, { env: { ...ENV, ...env } });
			const sock = reloadSocketPath(tmpDir, id);
			try {
				expect(await f.ready).toBe("1");
				// podman's layout: a private rp dir holding a socket named after the container.
				expect(statSync(`${tmpDir}/rp`).mode & 0o777).toBe(0o700);
				expect(statSync(sock).isSocket()).toBe(true);
				expect(await tcpExchange("127.0.0.1", tcpPort, "one")).toBe(`${A}:one`);
				expect(await udpExchange("127.0.0.1", udpPort, "one")).toBe(`${A}:one`);

				// A connection made before the reload stays with A; a UDP client's flow moves to B.
				const held = heldConnection(tcpPort);
				await held.opened;
				const client = await udpClient(udpPort);
				expect(await client.ask("x")).toBe(`${A}:x`);

				await reloadChildIP(tmpDir, id, B);
				expect(await tcpExchange("127.0.0.1", tcpPort, "two")).toBe(`${B}:two`);
				expect(await udpExchange("127.0.0.1", udpPort, "two")).toBe(`${B}:two`);
				expect(await held.finish("old")).toBe(`${A}:old`);
				expect(await client.ask("y")).toBe(`${B}:y`);
				client.close();

				// Refused addresses: podman's error texts, and the forwarder keeps B.
				await expect(reloadChildIP(tmpDir, id, "not-an-ip")).rejects.toThrow(
					'port reloading failed: rootless port failed to add port: invalid ChildIP: "not-an-ip"',
				);
				await expect(reloadChildIP(tmpDir, id, "127.0.0.1")).rejects.toThrow(
					'invalid ChildIP: "127.0.0.1" (a loopback or unspecified address)',
				);
				await expect(reloadChildIP(tmpDir, id, "0.0.0.0")).rejects.toThrow("invalid ChildIP");
				const raw = async (text: string) =>
					new TextDecoder().decode(
						await packetExchange(sock, new TextEncoder().encode(text), 3000),
					);
				expect(await raw("5\n")).toBe(
					"rootless port failed to decode ports: json: cannot unmarshal number into Go value of type string",
				);
				expect(await raw("")).toBe("rootless port failed to decode ports: EOF");
				expect(await raw('"10.233.3.1')).toBe(
					"rootless port failed to decode ports: unexpected EOF",
				);
				expect(await tcpExchange("127.0.0.1", tcpPort, "three")).toBe(`${B}:three`);
				expect(await udpExchange("127.0.0.1", udpPort, "three")).toBe(`${B}:three`);

				// And back to A, the way podman writes it (JSON string and newline, one packet).
				expect(await raw(`"${A}"\n`)).toBe("OK");
				expect(await tcpExchange("127.0.0.1", tcpPort, "four")).toBe(`${A}:four`);
			} finally {
				f.stop();
			}
			expect(await f.proc.exited).toBe(0);
			expect(await f.stdout).toBe("");
			// The socket file goes with the forwarder.
			expect(existsSync(sock)).toBe(false);
			await expect(reloadChildIP(tmpDir, id, B)).rejects.toThrow(
				"could not reload rootless port mappings",
			);
		},
	);

	test("RootlessCNI needs a TmpDir and a ContainerID that can name a file", async () => {
		for (const [extra, line] of [
			[{ TmpDir: "", ContainerID: "abc" }, "missing TmpDir"],
			[{ TmpDir: "/tmp", ContainerID: "../x" }, 'invalid ContainerID "../x"'],
			[{ TmpDir: "/tmp", ContainerID: "" }, 'invalid ContainerID ""'],
		] as const) {
			const f = spawnForwarder(
				cniConfig({
					Mappings: [{ hostIP: "127.0.0.1", hostPort: freePort(), containerPort: PORT }],
					...extra,
				}),
				{ env: ENV },
			);
			expect(await f.proc.exited).toBe(1);
			expect(await f.stdout).toBe(`${line}\n`);
			f.stop();
		}
	});

	test("an rp dir that is not private is refused", async () => {
		const dir = mkdtempSync(`${base}/t-`);
		must(["mkdir", "-m", "0777", `${dir}/rp`]);
		const f = spawnForwarder(
			cniConfig({
				Mappings: [{ hostIP: "127.0.0.1", hostPort: freePort(), containerPort: PORT }],
				TmpDir: dir,
				ContainerID: "trlp-open",
			}),
			{ env: ENV },
		);
		try {
			expect(await f.proc.exited).toBe(1);
			expect(await f.stdout).toContain("writable by group or others");
			expect(await f.ready).toBe("");
		} finally {
			f.stop();
		}
	});

	test("reloadChildIP speaks to podman's own rootlessport", async () => {
		if (!existsSync(PODMAN_RP)) {
			if (process.env.CI === "true") throw new Error(`${PODMAN_RP} missing (package podman)`);
			console.warn(`skipping: ${PODMAN_RP} missing`);
			return;
		}
		const dir = mkdtempSync(`${base}/t-`);
		const id = `trlp${uniq()}`;
		const port = freePort();
		const f = spawnForwarder(
			cniConfig({
				Mappings: [
					{
						host_ip: "127.0.0.1",
						container_port: PORT,
						host_port: port,
						range: 1,
						protocol: "tcp",
					},
				],
				TmpDir: dir,
				ContainerID: id,
			}),
			{ cmd: [PODMAN_RP], argv0: "rootlessport", env: ENV },
		);
		try {
			expect(await f.ready).toBe("1");
			expect(await tcpExchange("127.0.0.1", port, "p")).toBe(`${A}:p`);
			await reloadChildIP(dir, id, B);
			expect(await tcpExchange("127.0.0.1", port, "q")).toBe(`${B}:q`);
			await expect(reloadChildIP(dir, id, "not-an-ip")).rejects.toThrow(
				'port reloading failed: rootless port failed to add port: invalid ChildIP: "not-an-ip"',
			);
		} finally {
			f.stop();
		}
		expect(await f.proc.exited).toBe(0);
	});
});

/** One UDP client socket (one flow in the forwarder) asking one question at a time. */
async function udpClient(port: number) {
	let answer: ((s: string) => void) | undefined;
	const sock = await Bun.udpSocket({
		socket: {
			data(_s, buf) {
				answer?.(buf.toString());
			},
		},
	});
	return {
		ask(msg: string) {
			return new Promise<string>((resolve, reject) => {
				const t = setTimeout(() => reject(new Error("udp timeout")), 3000);
				answer = (s) => {
					clearTimeout(t);
					resolve(s);
				};
				sock.send(msg, port, "127.0.0.1");
			});
		},
		close: () => sock.close(),
	};
}

/** A connection that is open now and sends `text` plus FIN later; resolves to what it read. */
function heldConnection(port: number) {
	let got = "";
	let opened!: () => void;
	let closed!: (s: string) => void;
	const openedP = new Promise<void>((r) => (opened = r));
	const closedP = new Promise<string>((r) => (closed = r));
	const sockP = Bun.connect({
		hostname: "127.0.0.1",
		port,
		allowHalfOpen: true,
		socket: {
			open: () => opened(),
			data: (_s, d) => {
				got += d.toString();
			},
			close: () => closed(got),
		},
	});
	return {
		opened: openedP,
		async finish(text: string) {
			const s = await sockP;
			s.write(text);
			s.shutdown();
			return closedP;
		},
	};
}
