// The one table of libc symbols ctrnet calls. Only ffi/ imports bun:ffi (DESIGN 2).
//
// Rules the wrappers below follow (notes/bun-platform.md §1):
// - errno is read right after a call returned -1, in the same synchronous block, and nowhere else;
// - every wrapper either returns a useful value or throws SysError naming the operation.
import { dlopen, ptr, read, FFIType as T } from "bun:ffi";
import { O_CLOEXEC, SO_ATTACH_FILTER, SOCK_CLOEXEC, SOL_SOCKET } from "./constants";
import { ERRNO, SysError } from "./errno";

export * from "./constants";

const lib = dlopen("libc.so.6", {
	__errno_location: { args: [], returns: T.ptr },
	open: { args: [T.cstring, T.i32, T.u32], returns: T.i32 },
	openat: { args: [T.i32, T.cstring, T.i32, T.u32], returns: T.i32 },
	renameat: { args: [T.i32, T.cstring, T.i32, T.cstring], returns: T.i32 },
	unlinkat: { args: [T.i32, T.cstring, T.i32], returns: T.i32 },
	linkat: { args: [T.i32, T.cstring, T.i32, T.cstring, T.i32], returns: T.i32 },
	execve: { args: [T.cstring, T.ptr, T.ptr], returns: T.i32 },
	close: { args: [T.i32], returns: T.i32 },
	read: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
	write: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
	setns: { args: [T.i32, T.i32], returns: T.i32 },
	unshare: { args: [T.i32], returns: T.i32 },
	mount: { args: [T.cstring, T.cstring, T.cstring, T.u64, T.ptr], returns: T.i32 },
	umount2: { args: [T.cstring, T.i32], returns: T.i32 },
	pipe2: { args: [T.ptr, T.i32], returns: T.i32 },
	socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
	bind: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
	connect: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
	setsockopt: { args: [T.i32, T.i32, T.i32, T.ptr, T.u32], returns: T.i32 },
	sendto: { args: [T.i32, T.ptr, T.u64, T.i32, T.ptr, T.u32], returns: T.i64 },
	recvfrom: { args: [T.i32, T.ptr, T.u64, T.i32, T.ptr, T.ptr], returns: T.i64 },
	poll: { args: [T.ptr, T.u64, T.i32], returns: T.i32 },
	getpid: { args: [], returns: T.i32 },
	gettid: { args: [], returns: T.i32 },
	geteuid: { args: [], returns: T.u32 },
	kill: { args: [T.i32, T.i32], returns: T.i32 },
	strerror: { args: [T.i32], returns: T.cstring },
	flock: { args: [T.i32, T.i32], returns: T.i32 },
	listen: { args: [T.i32, T.i32], returns: T.i32 },
	shutdown: { args: [T.i32, T.i32], returns: T.i32 },
});
const C = lib.symbols;

function errno(): number {
	const p = C.__errno_location();
	return p === null ? 0 : read.i32(p);
}

/** Throws SysError when a call returned a negative value; returns the value otherwise. */
function check<N extends number | bigint>(rc: N, op: string, detail?: string): N {
	if (rc < 0) throw new SysError(op, errno(), detail);
	return rc;
}

export function open(path: string, flags: number, mode = 0): number {
	return check(C.open(Buffer.from(`${path}\0`), flags | O_CLOEXEC, mode), "open", path);
}

/** openat(2) relative to a directory fd: the way to act inside a dir that others can write. */
export function openat(dirFd: number, name: string, flags: number, mode = 0): number {
	return check(C.openat(dirFd, Buffer.from(`${name}\0`), flags | O_CLOEXEC, mode), "open", name);
}

/** renameat(2) within one directory fd; a symlink at `to` is replaced, never followed. */
export function renameat(dirFd: number, from: string, to: string): void {
	check(
		C.renameat(dirFd, Buffer.from(`${from}\0`), dirFd, Buffer.from(`${to}\0`)),
		"rename",
		`${from} -> ${to}`,
	);
}

/**
 * execve(2): this process becomes `path` with `argv` and `env` (a multi-threaded process may:
 * the kernel ends the other threads). Returns only by throwing.
 */
export function execve(path: string, argv: readonly string[], env: Record<string, string>): never {
	const keep: Buffer[] = [];
	const vector = (items: string[]) => {
		const v = new BigUint64Array(items.length + 1);
		items.forEach((s, i) => {
			const b = Buffer.from(`${s}\0`);
			keep.push(b);
			v[i] = BigInt(ptr(b));
		});
		return v;
	};
	const envp = vector(Object.entries(env).map(([k, v]) => `${k}=${v}`));
	const argvp = vector([...argv]);
	C.execve(Buffer.from(`${path}\0`), argvp, envp);
	throw new SysError("execve", errno(), path);
}

/** linkat(2) within one directory fd: fails with EEXIST when `to` exists (an exclusive claim). */
export function linkat(dirFd: number, from: string, to: string): void {
	check(
		C.linkat(dirFd, Buffer.from(`${from}\0`), dirFd, Buffer.from(`${to}\0`), 0),
		"link",
		`${from} -> ${to}`,
	);
}

/** unlinkat(2); a name that is already gone is not an error. */
export function unlinkat(dirFd: number, name: string): void {
	if (C.unlinkat(dirFd, Buffer.from(`${name}\0`), 0) === 0) return;
	const e = errno();
	if (e !== ERRNO.ENOENT) throw new SysError("unlink", e, name);
}

export function close(fd: number): void {
	check(C.close(fd), "close", String(fd));
}

export function readFd(fd: number, buf: Uint8Array): number {
	return Number(check(C.read(fd, buf, buf.byteLength), "read"));
}

export function writeFd(fd: number, buf: Uint8Array): number {
	return Number(check(C.write(fd, buf, buf.byteLength), "write"));
}

export function setns(fd: number, nstype: number, what?: string): void {
	check(C.setns(fd, nstype), "setns", what);
}

export function unshare(flags: number): void {
	check(C.unshare(flags), "unshare");
}

export function mount(
	source: string | null,
	target: string,
	fstype: string | null,
	flags: number,
): void {
	const src = source === null ? null : Buffer.from(`${source}\0`);
	const fs = fstype === null ? null : Buffer.from(`${fstype}\0`);
	check(C.mount(src, Buffer.from(`${target}\0`), fs, flags, null), "mount", target);
}

export function umount2(target: string, flags: number): void {
	check(C.umount2(Buffer.from(`${target}\0`), flags), "umount2", target);
}

/** A real pipe (not a socketpair): [readEnd, writeEnd], both close-on-exec in this process. */
export function pipe2(flags = O_CLOEXEC): [number, number] {
	const fds = new Int32Array(2);
	check(C.pipe2(fds, flags), "pipe2");
	return [fds[0] as number, fds[1] as number];
}

export function socket(domain: number, type: number, protocol: number): number {
	return check(C.socket(domain, type | SOCK_CLOEXEC, protocol), "socket");
}

export function bind(fd: number, addr: Uint8Array): void {
	check(C.bind(fd, addr, addr.byteLength), "bind");
}

/** connect(2) to the sockaddr `addr` (exactly its bytes); `what` names the target in the error. */
export function connect(fd: number, addr: Uint8Array, what?: string): void {
	check(C.connect(fd, addr, addr.byteLength), "connect", what);
}

export function setsockopt(fd: number, level: number, name: number, value: Uint8Array): void {
	check(C.setsockopt(fd, level, name, value, value.byteLength), "setsockopt");
}

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInsn {
	code: number;
	jt: number;
	jf: number;
	k: number;
}

/**
 * Attaches a classic BPF program to a socket (SO_ATTACH_FILTER): the kernel drops, before
 * queueing them, the datagrams for which it returns 0.
 */
export function attachSocketFilter(fd: number, program: readonly BpfInsn[]): void {
	const bytes = new Uint8Array(program.length * 8);
	const insns = new DataView(bytes.buffer);
	program.forEach((p, i) => {
		insns.setUint16(i * 8, p.code, true);
		insns.setUint8(i * 8 + 2, p.jt);
		insns.setUint8(i * 8 + 3, p.jf);
		insns.setUint32(i * 8 + 4, p.k >>> 0, true);
	});
	// struct sock_fprog { unsigned short len; struct sock_filter *filter; } (the kernel copies both)
	const fprog = new DataView(new ArrayBuffer(16));
	fprog.setUint16(0, program.length, true);
	fprog.setBigUint64(8, BigInt(ptr(bytes)), true);
	setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, new Uint8Array(fprog.buffer));
}

export function sendto(
	fd: number,
	buf: Uint8Array,
	flags = 0,
	addr: Uint8Array | null = null,
): number {
	return Number(
		check(C.sendto(fd, buf, buf.byteLength, flags, addr, addr?.byteLength ?? 0), "sendto"),
	);
}

/** recvfrom into `buf` (the caller keeps one buffer and reuses it); returns bytes received. */
export function recvfrom(fd: number, buf: Uint8Array, flags = 0): number {
	return Number(check(C.recvfrom(fd, ptr(buf), buf.byteLength, flags, null, null), "recvfrom"));
}

/** Waits up to `timeoutMs` for `events` on one fd; true when ready. Blocks the JS thread. */
export function pollOne(fd: number, events: number, timeoutMs: number): boolean {
	const pfd = new Int32Array([fd, events]); // struct pollfd { int fd; short events, revents; }
	return check(C.poll(pfd, 1, timeoutMs), "poll") > 0;
}

export function getpid(): number {
	return C.getpid();
}

export function gettid(): number {
	return C.gettid();
}

export function geteuid(): number {
	return C.geteuid();
}

/** kill(2); returns false when the process does not exist (ESRCH) instead of throwing. */
export function kill(pid: number, signal: number): boolean {
	if (C.kill(pid, signal) === 0) return true;
	const e = errno();
	if (e === ERRNO.ESRCH) return false;
	throw new SysError("kill", e, String(pid));
}

/** flock(2): blocks until the lock is held (LOCK_EX) or releases it (LOCK_UN). */
export function flock(fd: number, op: number, what?: string): void {
	check(C.flock(fd, op), "flock", what);
}

/** The C library's text for an errno ("No such device"), for messages that want words. */
export function strerror(errno: number): string {
	return String(C.strerror(errno));
}

export function listen(fd: number, backlog: number): void {
	check(C.listen(fd, backlog), "listen");
}

/** shutdown(2); a socket that is not connected (ENOTCONN) is not an error here. */
export function shutdown(fd: number, how: number): void {
	if (C.shutdown(fd, how) === 0) return;
	const e = errno();
	if (e !== ERRNO.ENOTCONN) throw new SysError("shutdown", e);
}
