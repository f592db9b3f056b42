// How many UDP flows and TCP connections the forwarder keeps at once. Pure.
//
// Both cost file descriptors (a UDP flow one socket; a splice-path TCP connection six: two
// sockets and two pipes, plus a thread; a JS-path one two), and a forwarder out of fds serves
// nothing on any port. So each gets a share of the process's fd limit, with room kept for the
// process itself, and a ceiling besides: a UDP flood from many source ports then recycles the
// least recently used flows within its share, and TCP keeps the rest.

/** fds the process needs besides flows and connections: stdio, epoll, eventfds, netns, timers. */
export const BASE_FDS = 64;
export const MAX_UDP_FLOWS = 4096;
export const MAX_TCP_CONNS = 4096;
/** The share of the spare fds UDP flows may hold when TCP ports are forwarded too. */
export const UDP_SHARE = 0.25;

export interface Caps {
	udpFlows: number;
	tcpConns: number;
}

/** The soft "Max open files" limit from /proc/self/limits' text; undefined if absent. */
export function openFilesLimit(limits: string): number | undefined {
	const m = /^Max open files\s+(\S+)/m.exec(limits);
	if (!m) return undefined;
	if (m[1] === "unlimited") return Number.POSITIVE_INFINITY;
	const n = Number.parseInt(m[1] as string, 10);
	return Number.isFinite(n) ? n : undefined;
}

export function capsFor(o: {
	nofile: number;
	listeners: number;
	tcp: boolean;
	udp: boolean;
	fdsPerConn: number;
}): Caps {
	const spare = Math.max(o.nofile - BASE_FDS - o.listeners, 8);
	const clamp = (n: number, max: number) => Math.max(1, Math.min(max, Math.floor(n)));
	const udpFlows = o.udp ? clamp(o.tcp ? spare * UDP_SHARE : spare, MAX_UDP_FLOWS) : 0;
	const tcpConns = clamp((spare - udpFlows) / o.fdsPerConn, MAX_TCP_CONNS);
	return { udpFlows, tcpConns };
}
