// UDP forwarding with per-client flows, as rootlesskit's UDP proxy: every client address gets
// its own socket, created inside the container's netns and connected to the container's
// address, so replies find their way back to that client. A flow idle for 90 s (rootlesskit's
// conntrack timeout) is closed; traffic in either direction keeps it alive.
//
// Under a flood from many source addresses the flow table is capped (flows.ts: the least
// recently used flow makes room), so the forwarder never runs out of fds. Sends fail in normal
// operation (a client that left answers with ICMP port unreachable, which Bun reports as
// ECONNREFUSED on a later send, possibly to another client): they are retried once, counted, and
// logged at a bounded rate, never thrown.
import type { udp } from "bun";
import { inNetns } from "../../ffi/netns";
import type { Forward } from "./config";
import { FlowTable } from "./flows";
import { MAX_UDP_FLOWS } from "./limits";
import type { Log } from "./log";
import { fixedTarget, type Target } from "./target";

export const UDP_IDLE_MS = 90_000;
/** Datagrams (and bytes) kept per flow while its socket is being made; more are dropped (UDP). */
const MAX_EARLY = 64;
const MAX_EARLY_BYTES = 256 * 1024;

export class UdpFlow {
	sock: udp.ConnectedSocket<"buffer"> | null = null;
	early: Buffer[] = [];
	earlyBytes = 0;
	last = Date.now();
	dead = false;

	/**
	 * `gen`: the target's generation this flow dials (a reload makes new flows); `idleMs`: how
	 * long it may go without traffic.
	 */
	constructor(
		readonly gen: number,
		readonly idleMs: number = UDP_IDLE_MS,
	) {}

	close(): void {
		this.dead = true;
		this.early = [];
		const s = this.sock;
		this.sock = null;
		s?.close();
	}
}

export interface UdpForwarder {
	close(): void;
}

export interface UdpOptions {
	log?: Log;
	/** Shared by every UDP port of a forwarder; its own table (MAX_UDP_FLOWS) when absent. */
	table?: FlowTable<UdpFlow>;
	idleMs?: number;
}

// Bun 1.4.5 calls a UDP socket's error handler with the error alone, although its types say
// (socket, error): the handlers below take whichever came.
const reason = (err: unknown) =>
	(err as { code?: string } | null)?.code ?? (err instanceof Error ? err.message : String(err));

/**
 * One idle sweep per flow table, however many UDP ports share it: a published range of N ports
 * would otherwise run N timers, each walking the whole table. Each flow carries its own timeout;
 * the sweep runs at least as often as the shortest one asks (at most every 10 s).
 */
interface Sweep {
	timer: ReturnType<typeof setInterval>;
	everyMs: number;
	users: number;
}
const sweeps = new WeakMap<FlowTable<UdpFlow>, Sweep>();

/**
 * Joins `table`'s sweep (starting it, or making it run more often, when needed); returns the
 * leave function.
 */
function joinSweep(table: FlowTable<UdpFlow>, idleMs: number): () => void {
	const everyMs = Math.min(idleMs, 10_000);
	const start = (ms: number) =>
		setInterval(() => {
			const now = Date.now();
			table.closeWhere("", (flow) => now - flow.last > flow.idleMs);
		}, ms);
	let s = sweeps.get(table);
	if (!s) {
		s = { timer: start(everyMs), everyMs, users: 0 };
		sweeps.set(table, s);
	} else if (everyMs < s.everyMs) {
		clearInterval(s.timer);
		s.timer = start(everyMs);
		s.everyMs = everyMs;
	}
	const joined = s;
	joined.users++;
	return () => {
		if (--joined.users > 0) return;
		clearInterval(joined.timer);
		sweeps.delete(table);
	};
}

/** Sends; on an error, once more (the first may have reported an earlier datagram's ICMP). */
function sendTwice(send: () => unknown): unknown {
	try {
		send();
		return null;
	} catch {
		try {
			send();
			return null;
		} catch (err) {
			return err;
		}
	}
}

/** Binds on the host for one mapping; rejects with Bun's bind error (with .code) on failure. */
export async function listenUdp(
	f: Forward,
	netnsPath: string,
	target: Target | string,
	opts: UdpOptions = {},
): Promise<UdpForwarder> {
	const log = opts.log ?? (() => {});
	const table = opts.table ?? new FlowTable<UdpFlow>(MAX_UDP_FLOWS);
	const idleMs = opts.idleMs ?? UDP_IDLE_MS;
	const to = typeof target === "string" ? fixedTarget(target) : target;
	const prefix = `${f.hostIP}|${f.hostPort}|`;
	const port = f.hostPort;

	const open = (key: string, clientPort: number, address: string, gen: number) => {
		const flow = new UdpFlow(gen, idleMs);
		const ip = to.ip();
		let made: Promise<udp.ConnectedSocket<"buffer">>;
		try {
			made = inNetns(netnsPath, () => ({
				made: Bun.udpSocket({
					connect: { hostname: ip, port: f.containerPort },
					socket: {
						data(_s, buf) {
							if (flow.dead) return;
							flow.last = Date.now();
							table.use(key);
							const err = sendTwice(() => host.send(buf, clientPort, address));
							if (err) {
								// The client is gone or unreachable: its flow ends here.
								log(
									`udp ${port}: reply to ${address}:${clientPort}: ${reason(err)}`,
									`udp ${port} reply`,
								);
								table.drop(key, flow);
							}
						},
						error(a, b) {
							log(
								`udp ${port}: flow to ${ip}:${f.containerPort}: ${reason(b ?? a)}`,
								`udp ${port} flow`,
							);
						},
					},
				}),
			})).made;
		} catch (err) {
			log(`udp ${port}: cannot open a flow: ${reason(err)}`, `udp ${port} open`);
			return undefined;
		}
		if (table.add(key, flow) > 0) {
			log(`udp: ${table.max} flows open, closing the least recently used`, "udp flow limit");
		}
		made.then(
			(sock) => {
				if (flow.dead) return sock.close();
				flow.sock = sock;
				for (const b of flow.early) toContainer(key, flow, b);
				flow.early = [];
				flow.earlyBytes = 0;
			},
			(err) => {
				log(
					`udp ${port}: cannot reach ${ip}:${f.containerPort}: ${reason(err)}`,
					`udp ${port} open`,
				);
				table.drop(key, flow);
			},
		);
		return flow;
	};

	const toContainer = (key: string, flow: UdpFlow, buf: Buffer) => {
		const sock = flow.sock;
		if (!sock) return;
		const err = sendTwice(() => sock.send(buf));
		if (err) {
			// Nothing listens there (any more): a later datagram opens a new flow.
			log(`udp ${port}: to ${to.ip()}:${f.containerPort}: ${reason(err)}`, `udp ${port} send`);
			table.drop(key, flow);
		}
	};

	const host = await Bun.udpSocket({
		hostname: f.hostIP,
		port: f.hostPort,
		socket: {
			data(_s, buf, clientPort, address) {
				const key = `${prefix}${address}|${clientPort}`;
				const gen = to.gen();
				let flow = table.use(key);
				if (flow && flow.gen !== gen) {
					// The container's address was switched: this client's next datagram goes there.
					table.drop(key, flow);
					flow = undefined;
				}
				flow ??= open(key, clientPort, address, gen);
				if (!flow) return;
				flow.last = Date.now();
				if (flow.sock) toContainer(key, flow, buf);
				else if (flow.early.length < MAX_EARLY && flow.earlyBytes < MAX_EARLY_BYTES) {
					flow.early.push(Buffer.from(buf));
					flow.earlyBytes += buf.length;
				}
			},
			error(a, b) {
				// ICMP errors (port unreachable from a client that left) come here, read from the
				// socket's error queue.
				log(`udp ${port}: ${reason(b ?? a)}`, `udp ${port} host`);
			},
		},
	});

	const leaveSweep = joinSweep(table, idleMs);

	return {
		close() {
			leaveSweep();
			table.closeWhere(prefix);
			host.close();
		},
	};
}
