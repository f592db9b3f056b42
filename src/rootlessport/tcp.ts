// TCP forwarding: listen on the host, and for every accepted connection dial ChildIP:port from
// inside the container's netns, then copy both ways.
//
// - The upstream socket is created in one synchronous inNetns block with an IP literal (DESIGN
//   1a): Bun.connect makes its socket before returning the promise, so the socket belongs to
//   the container's netns although the connect completes after we are back in ours.
// - Backpressure: write() takes what the kernel accepts; the rest waits in `out` and the reading
//   side is paused until `drain` empties it, so a slow reader never makes us buffer without bound.
// - Half-close: allowHalfOpen on both sockets; a FIN from one side becomes shutdown(SHUT_WR) on
//   the other once everything before it was written (HTTP/1.0 clients and `nc -N` rely on this).
//   Not end(): in Bun 1.4.5 end() closes the whole socket, so a reply still on its way would be
//   lost (measured). Bun closes a socket by itself once both directions are finished.
// - At most `conns.max` client connections at once across the forwarder's TCP ports (limits.ts);
//   one beyond that is closed at once, and the log says so at a bounded rate.
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { inNetns } from "../../ffi/netns";
import type { Forward } from "./config";
import type { Log } from "./log";
import type { Target } from "./target";

/** One direction's writer: the socket plus what still has to be written to it. */
interface Side {
	sock: Socket<Side> | null;
	peer: Side;
	out: Buffer[];
	/** The peer sent FIN: shut this socket's write side once `out` is empty. */
	fin: boolean;
	shut: boolean;
	closed: boolean;
	/** The client side of a served connection: counted in `conns` until it closes. */
	counted: ConnCount | null;
}

/** Open client connections, shared by every TCP port of a forwarder. */
export interface ConnCount {
	open: number;
	max: number;
}

export interface TcpForwarder {
	close(): void;
}

function newSide(sock: Socket<Side> | null): Side {
	const side = {
		sock,
		out: [],
		fin: false,
		shut: false,
		closed: false,
		counted: null,
	} as unknown as Side;
	side.peer = side;
	return side;
}

function shutIfDone(side: Side): void {
	if (side.fin && !side.shut && side.out.length === 0 && side.sock && !side.closed) {
		side.shut = true;
		side.sock.shutdown();
	}
}

/** Writes what is queued; true when nothing is left. */
function flush(side: Side): boolean {
	const sock = side.sock;
	if (!sock || side.closed) return false;
	while (side.out.length > 0) {
		const buf = side.out[0] as Buffer;
		const n = sock.write(buf);
		if (n < buf.length) {
			side.out[0] = buf.subarray(Math.max(n, 0));
			return false;
		}
		side.out.shift();
	}
	shutIfDone(side);
	return true;
}

/** Data read from `from` goes to `to`; pauses `from` when `to` cannot take it all. */
function send(from: Socket<Side>, to: Side, data: Buffer): void {
	if (to.closed) {
		// Nobody left to read this: stop the source as Go's io.Copy would on a write error.
		from.end();
		return;
	}
	if (to.sock === null || to.out.length > 0) {
		to.out.push(Buffer.from(data));
		from.pause();
		return;
	}
	const n = to.sock.write(data);
	if (n < data.length) {
		to.out.push(Buffer.from(data.subarray(Math.max(n, 0))));
		from.pause();
	}
}

// Both sockets of a pair behave the same way; only `open` differs (see below).
const common: Omit<SocketHandler<Side>, "open"> = {
	data(sock, data) {
		send(sock, sock.data.peer, data);
	},
	drain(sock) {
		if (flush(sock.data)) sock.data.peer.sock?.resume();
	},
	end(sock) {
		const peer = sock.data.peer;
		peer.fin = true;
		shutIfDone(peer);
	},
	close(sock) {
		const side = sock.data;
		if (side.counted) {
			side.counted.open--;
			side.counted = null;
		}
		side.closed = true;
		side.out = [];
		// Whatever the other end still has to say cannot reach us: finish it gracefully.
		side.peer.fin = true;
		shutIfDone(side.peer);
		side.peer.sock?.resume();
	},
	error() {
		// close() follows; nothing else to do.
	},
};

const upstreamHandlers: SocketHandler<Side> = {
	...common,
	open(sock) {
		sock.setNoDelay(true);
		const side = sock.data;
		side.sock = sock;
		if (flush(side)) side.peer.sock?.resume();
	},
	connectError(sock) {
		const side = sock.data;
		side.closed = true;
		// The container refused or is gone: close the client's connection, as rootlesskit does.
		side.peer.sock?.end();
	},
};

/** Listens on the host for one mapping; throws Bun's listen error (with .code) on failure. */
export function listenTcp(
	f: Forward,
	netnsPath: string,
	target: Target,
	log: Log,
	conns: ConnCount,
): TcpForwarder {
	const dial = (client: Side): void => {
		const upstream = newSide(null);
		upstream.peer = client;
		client.peer = upstream;
		const childIP = target.ip();
		try {
			inNetns(netnsPath, () => {
				Bun.connect<Side>({
					hostname: childIP,
					port: f.containerPort,
					allowHalfOpen: true,
					data: upstream,
					socket: upstreamHandlers,
				}).catch(() => {}); // connectError handles it
			});
		} catch (err) {
			log(
				`tcp ${f.hostPort}: cannot dial ${childIP}:${f.containerPort}: ${String(err)}`,
				`tcp ${f.hostPort} dial`,
			);
			upstream.closed = true;
			client.sock?.end();
		}
	};
	const listener: TCPSocketListener<Side> = Bun.listen<Side>({
		hostname: f.hostIP,
		port: f.hostPort,
		exclusive: true,
		allowHalfOpen: true,
		data: undefined as unknown as Side,
		socket: {
			...common,
			open(sock) {
				const client = newSide(sock);
				sock.data = client;
				if (conns.open >= conns.max) {
					client.closed = true;
					log(`tcp: connection limit (${conns.max} open) reached; refusing`, "tcp limit");
					sock.terminate();
					return;
				}
				conns.open++;
				client.counted = conns;
				sock.setNoDelay(true);
				dial(client);
			},
		},
	});
	return { close: () => listener.stop(true) };
}
