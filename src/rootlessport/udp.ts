// UDP forwarding with per-client flows, as rootlesskit's UDP proxy: every client address gets
// its own socket, created inside the container's netns and connected to ChildIP:port, so replies
// find their way back to that client. A flow idle for 90 s (rootlesskit's conntrack timeout) is
// closed; traffic in either direction keeps it alive.
import type { udp } from "bun";
import { inNetns } from "../../ffi/netns";
import type { Forward } from "./config";
import type { Logger } from "./tcp";

export const UDP_IDLE_MS = 90_000;
/** Datagrams kept per flow while its socket is still being made; more are dropped (UDP). */
const MAX_EARLY = 64;

interface Flow {
	sock: udp.ConnectedSocket<"buffer"> | null;
	early: Buffer[];
	last: number;
	dead: boolean;
}

export interface UdpForwarder {
	close(): void;
}

/** Binds on the host for one mapping; rejects with Bun's bind error (with .code) on failure. */
export async function listenUdp(
	f: Forward,
	netnsPath: string,
	childIP: string,
	log: Logger,
	idleMs = UDP_IDLE_MS,
): Promise<UdpForwarder> {
	const flows = new Map<string, Flow>();

	const drop = (key: string, flow: Flow) => {
		flow.dead = true;
		flow.sock?.close();
		flows.delete(key);
	};

	const open = (key: string, port: number, address: string): Flow => {
		const flow: Flow = { sock: null, early: [], last: Date.now(), dead: false };
		flows.set(key, flow);
		const { made } = inNetns(netnsPath, () => ({
			made: Bun.udpSocket({
				connect: { hostname: childIP, port: f.containerPort },
				socket: {
					data(_s, buf) {
						flow.last = Date.now();
						host.send(buf, port, address);
					},
				},
			}),
		}));
		made.then(
			(sock) => {
				if (flow.dead) return sock.close();
				flow.sock = sock;
				for (const b of flow.early) sock.send(b);
				flow.early = [];
			},
			(err) => {
				log(`udp ${f.hostPort}: cannot reach ${childIP}:${f.containerPort}: ${String(err)}`);
				drop(key, flow);
			},
		);
		return flow;
	};

	const host = await Bun.udpSocket({
		hostname: f.hostIP,
		port: f.hostPort,
		socket: {
			data(_s, buf, port, address) {
				const key = `${address}|${port}`;
				let flow = flows.get(key);
				if (!flow) {
					try {
						flow = open(key, port, address);
					} catch (err) {
						log(`udp ${f.hostPort}: ${String(err)}`);
						return;
					}
				}
				flow.last = Date.now();
				if (flow.sock) flow.sock.send(buf);
				else if (flow.early.length < MAX_EARLY) flow.early.push(Buffer.from(buf));
			},
		},
	});

	const sweep = setInterval(
		() => {
			const now = Date.now();
			for (const [key, flow] of flows) if (now - flow.last > idleMs) drop(key, flow);
		},
		Math.min(idleMs, 10_000),
	);

	return {
		close() {
			clearInterval(sweep);
			for (const [key, flow] of flows) drop(key, flow);
			host.close();
		},
	};
}
