// TCP forwarding with the data path in the kernel (ffi/pump.c): the listening socket is made
// here, on the JS thread in the host netns (so bind errors come back as errno codes for
// podman's messages); accepting, dialling inside the container's netns and splicing happen on
// pump threads. Same contract as tcp.ts (half-close, a refused dial closes the client).
import {
	bind,
	close,
	listen,
	O_RDONLY,
	open,
	SHUT_RDWR,
	SO_REUSEADDR,
	SOCK_STREAM,
	SOL_SOCKET,
	setsockopt,
	shutdown,
	socket,
} from "../../ffi/libc";
import { startPump } from "../../ffi/pump";
import type { Forward } from "./config";
import { sockaddr } from "./sockaddr";
import type { TcpForwarder } from "./tcp";

const BACKLOG = 4096;

export function listenTcpSplice(f: Forward, netnsPath: string, childIP: string): TcpForwarder {
	const host = sockaddr(f.hostIP, f.hostPort);
	const child = sockaddr(childIP, f.containerPort);
	const fd = socket(host.family, SOCK_STREAM, 0);
	let netnsFd = -1;
	try {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, new Uint8Array(new Int32Array([1]).buffer)); // as Go's net.Listen
		bind(fd, host.addr);
		listen(fd, BACKLOG);
		netnsFd = open(netnsPath, O_RDONLY);
		startPump(fd, netnsFd, child.addr, child.family);
	} catch (err) {
		close(fd);
		throw err;
	} finally {
		if (netnsFd >= 0) close(netnsFd);
	}
	return {
		close() {
			shutdown(fd, SHUT_RDWR); // wakes the acceptor thread blocked in accept(2)
			close(fd);
		},
	};
}
