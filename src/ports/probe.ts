// Is a host port free? Asked the way the kernel answers it: bind(2) a socket to it and let go.
// /proc/net/tcp was the first answer, but the kernel walks its whole socket hash table to print
// it: slow, and paid by every setup.
import { ERRNO, SysError } from "../../ffi/errno";
import {
	AF_INET,
	AF_INET6,
	bind,
	close,
	IPPROTO_IPV6,
	IPV6_V6ONLY,
	SO_REUSEADDR,
	SOCK_DGRAM,
	SOCK_STREAM,
	SOL_SOCKET,
	setsockopt,
	socket,
} from "../../ffi/libc";
import { ipFamily, sockaddr } from "../ip/address";
import type { Protocol } from "./schema";

const ONE = new Uint8Array(new Int32Array([1]).buffer);
const ZERO = new Uint8Array(4);

/**
 * True when something on the host holds `port` for `protocol` on `hostIP` (or anywhere, for "").
 * The wildcard probe binds [::] dual-stack, which collides with IPv4 and IPv6 holders alike.
 * SO_REUSEADDR keeps TIME_WAIT leftovers from counting as in use. SCTP is not probed.
 */
export function hostPortTaken(protocol: Protocol, port: number, hostIP = ""): boolean {
	if (protocol === "sctp") return false;
	const type = protocol === "tcp" ? SOCK_STREAM : SOCK_DGRAM;
	const v6 = hostIP === "" || ipFamily(hostIP) === 6;
	let fd: number;
	try {
		fd = socket(v6 ? AF_INET6 : AF_INET, type, 0);
	} catch {
		if (hostIP !== "") throw new Error(`cannot probe ${hostIP}:${port}`);
		return hostPortTaken(protocol, port, "0.0.0.0"); // no IPv6 on this host
	}
	try {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, ONE);
		if (v6 && hostIP === "") setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ZERO);
		bind(fd, sockaddr(hostIP === "" ? "::" : hostIP, port).addr);
		return false;
	} catch (e) {
		if (e instanceof SysError && (e.errno === ERRNO.EADDRINUSE || e.errno === ERRNO.EACCES))
			return e.errno === ERRNO.EADDRINUSE;
		throw e;
	} finally {
		close(fd);
	}
}
