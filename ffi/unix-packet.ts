// One request/reply over a SOCK_SEQPACKET unix socket (Bun's unix sockets are stream sockets
// only): podman's rootlessport reload socket speaks this way. The socket is reached through
// /proc/self/fd/<O_PATH fd> as podman's client does, so a path longer than sun_path's 108
// bytes works too.
import { ERRNO, SysError } from "./errno";
import {
	AF_UNIX,
	close,
	connect,
	MSG_NOSIGNAL,
	O_PATH,
	open,
	POLLIN,
	pollOne,
	recvfrom,
	SOCK_NONBLOCK,
	SOCK_SEQPACKET,
	sendto,
	socket,
} from "./libc";

function connectUnix(fd: number, path: string): void {
	const sa = Buffer.alloc(110); // sockaddr_un: sa_family_t + sun_path[108]
	sa.writeUInt16LE(AF_UNIX, 0);
	const n = sa.write(path, 2);
	if (n >= 108) throw new SysError("connect", ERRNO.ENAMETOOLONG, path);
	connect(fd, sa.subarray(0, 2 + n + 1), path);
}

/**
 * Sends `request` as one packet to the socket at `path` and returns everything it answers until
 * it closes the connection. SysError if it cannot connect; Error on timeout.
 */
export async function packetExchange(
	path: string,
	request: Uint8Array,
	timeoutMs: number,
): Promise<Uint8Array> {
	const target = open(path, O_PATH);
	let fd = -1;
	try {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
		connectUnix(fd, `/proc/self/fd/${target}`);
	} catch (err) {
		if (fd >= 0) close(fd);
		throw err;
	} finally {
		close(target);
	}
	try {
		sendto(fd, request, MSG_NOSIGNAL);
		const end = Date.now() + timeoutMs;
		const chunks: Buffer[] = [];
		const buf = Buffer.alloc(4096);
		for (;;) {
			if (!pollOne(fd, POLLIN, 0)) {
				if (Date.now() > end) throw new Error(`${path}: no answer within ${timeoutMs} ms`);
				await Bun.sleep(1);
				continue;
			}
			const n = recvfrom(fd, buf);
			if (n === 0) break;
			chunks.push(Buffer.from(buf.subarray(0, n)));
		}
		return Buffer.concat(chunks);
	} finally {
		close(fd);
	}
}
