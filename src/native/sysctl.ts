// Sysctls of the network namespace the JS thread is in. /proc/sys/net shows the namespace of the
// thread that opens the file, so a write made inside inNetns lands in that namespace (verified
// in test/integration/native-bridge.test.ts). Keys are slash paths under /proc/sys
// ("net/ipv4/conf/eth0.100/forwarding"): interface names may contain dots. The file is opened
// and written on the JS thread through libc, never through Bun's thread pool, which stays in
// the namespace it started in.
import { ERRNO, SysError } from "../../ffi/errno";
import { close, O_RDONLY, O_WRONLY, open, readFd, writeFd } from "../../ffi/libc";

const PROC_SYS = "/proc/sys/";

export function readSysctl(key: string): string {
	const fd = open(PROC_SYS + key, O_RDONLY);
	try {
		const buf = new Uint8Array(64);
		const n = readFd(fd, buf);
		return new TextDecoder().decode(buf.subarray(0, n)).trim();
	} finally {
		close(fd);
	}
}

/**
 * Writes `value`. With `missingOk`, a key that does not exist (IPv6 disabled in the kernel) is
 * not an error; returns whether the key exists. With `readOnlyOk`, a read-only /proc is not an
 * error either (returns true: the key exists, its value is whatever it was).
 */
export function writeSysctl(
	key: string,
	value: string,
	opts: { missingOk?: boolean; readOnlyOk?: boolean } = {},
): boolean {
	let fd: number;
	try {
		fd = open(PROC_SYS + key, O_WRONLY);
	} catch (e) {
		if (opts.missingOk && e instanceof SysError && e.errno === ERRNO.ENOENT) return false;
		if (opts.readOnlyOk && e instanceof SysError && e.errno === ERRNO.EROFS) return true;
		throw e;
	}
	try {
		writeFd(fd, new TextEncoder().encode(value));
		return true;
	} finally {
		close(fd);
	}
}

/**
 * Writes `value` only when the key holds something else. Some writes are not free:
 * net.ipv4.ip_forward rewrites every interface's forwarding flag and flushes the route cache.
 */
export function ensureSysctl(key: string, value: string): void {
	if (readSysctl(key) !== value) writeSysctl(key, value);
}
