// What a failure says on stdout (`{"error": "…"}`), in netavark's words where netavark has some:
// its messages are a chain of contexts joined by ": " ending in the cause, e.g.
// `invalid namespace path: IO error: No such file or directory (os error 2)`. Podman shows the
// text to the user, and netavark's own test suite compares some of them exactly. Pure, apart from
// the C library's error texts (strerror), which Rust's std prints too.
import { ERRNO, SysError } from "../../ffi/errno";
import { NetlinkError } from "../netlink/error";

/** A failure whose message is final (already in netavark's words). */
export class NetavarkError extends Error {
	override name = "NetavarkError";
}

/** Rust's io::Error for an OS error: `IO error: <strerror> (os error N)`. */
export function ioError(errno: number, strerror: (n: number) => string): string {
	return `IO error: ${strerror(errno)} (os error ${errno})`;
}

/** Rust's io::Error for what Node's fs calls throw (`code: "ENOENT"`), or the message itself. */
export function fsErrorText(e: unknown, strerror: (n: number) => string): string {
	const code = (e as NodeJS.ErrnoException | undefined)?.code;
	const errno = code ? ERRNO[code as keyof typeof ERRNO] : undefined;
	if (errno !== undefined) return ioError(errno, strerror);
	return e instanceof Error ? e.message : String(e);
}

/**
 * Any error of the native layer as a netavark-style message. A sysctl that cannot be written
 * reads as netavark's `Sysctl error: IO Error: … (os error N)`; the rest keeps ctrnet's text.
 */
export function describeError(e: unknown, strerror: (n: number) => string): string {
	if (e instanceof NetavarkError) return e.message;
	if (e instanceof SysError && (e.detail ?? "").startsWith("/proc/sys/")) {
		return `Sysctl error: IO Error: ${strerror(e.errno)} (os error ${e.errno})`;
	}
	// The kernel refuses an IPv6 gateway address on a bridge when IPv6 is off in the namespace.
	if (
		e instanceof NetlinkError &&
		e.errno === ERRNO.EACCES &&
		/^add address [0-9a-fA-F:]+\/\d+ to bridge /.test(e.op)
	) {
		return `add ip addr to bridge: failed to add ipv6 address, is ipv6 enabled in the kernel?: Netlink error: ${strerror(e.errno)} (os error ${e.errno})`;
	}
	const message = e instanceof Error ? e.message : String(e);
	return message.replace(/\s*\n\s*/g, " ").trim();
}
