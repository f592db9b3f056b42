// The native side of rootlessport (pump.c): the kernel-side TCP data path, the container address
// every data path dials (switchable by a rootless-CNI reload), and podman's reload socket. Built
// at build time and loaded from memory (compiled.ts); false when it cannot be (then the caller
// falls back to the JS data path). The listener is made in C too, so the splice path does not
// load libc.ts' symbol table (a few MB of the forwarder's RSS budget).
import { FFIType as T } from "bun:ffi";
import so from "./build/pump.so" with { type: "file" };
import { loadCompiled } from "./compiled";
import { SysError } from "./errno";

interface Pump {
	rp_listen(addr: Uint8Array, len: number, family: number, backlog: number): number;
	rp_start(listenFd: number, netns: Buffer, port: number): number;
	rp_close(fd: number): void;
	rp_stop_on(exitFd: number): number;
	rp_limits(maxConns: number): void;
	rp_child_set(ip: Buffer): number;
	rp_child_gen(): number;
	rp_child_get(buf: Buffer, len: number): number;
	rp_reload_start(dir: Buffer, name: Buffer): number;
	rp_reload_stop(): void;
}
let pump: Pump | null | undefined;

/**
 * Loads pump once; false (with the reason given to `why`) when that is not possible. `cacheDir`:
 * a private directory for a file copy where memfd is unavailable (see compiled.ts).
 */
export function loadPump(cacheDir?: string, why: (msg: string) => void = () => {}): boolean {
	if (pump !== undefined) return pump !== null;
	try {
		const lib = loadCompiled(
			"pump",
			so,
			{
				rp_listen: { args: [T.ptr, T.i32, T.i32, T.i32], returns: T.i32 },
				rp_start: { args: [T.i32, T.ptr, T.i32], returns: T.i32 },
				rp_close: { args: [T.i32], returns: T.void },
				rp_stop_on: { args: [T.i32], returns: T.i32 },
				rp_limits: { args: [T.i32], returns: T.void },
				rp_child_set: { args: [T.ptr], returns: T.i32 },
				rp_child_gen: { args: [], returns: T.i32 },
				rp_child_get: { args: [T.ptr, T.i32], returns: T.i32 },
				rp_reload_start: { args: [T.ptr, T.ptr], returns: T.i32 },
				rp_reload_stop: { args: [], returns: T.void },
			},
			{ cacheDir },
		);
		pump = lib.symbols as unknown as Pump;
	} catch (err) {
		why(err instanceof Error ? err.message : String(err));
		pump = null;
	}
	return pump !== null;
}

function loaded(): Pump {
	if (!pump) throw new Error("pump not loaded");
	return pump;
}

const cstr = (s: string) => Buffer.from(`${s}\0`);

/** A listening socket on `addr` in this thread's netns; SysError (code EADDRINUSE, …) if not. */
export function pumpListen(addr: Uint8Array, family: number, backlog = 4096): number {
	const fd = loaded().rp_listen(addr, addr.byteLength, family, backlog);
	if (fd < 0) throw new SysError("listen", -fd);
	return fd;
}

/**
 * Forwards every connection accepted on `listenFd` to the container's address (pumpSetChild) and
 * `port`, dialled from a thread inside the netns at `netnsPath`. SysError when that netns cannot
 * be opened or entered.
 */
export function pumpStart(listenFd: number, netnsPath: string, port: number): void {
	const rc = loaded().rp_start(listenFd, cstr(netnsPath), port);
	if (rc > 0) throw new SysError("setns", rc, netnsPath);
	if (rc < 0) throw new Error("cannot start a forwarding thread");
}

/** Stops a listener made by pumpListen (its acceptor thread ends; connections go on). */
export function pumpClose(fd: number): void {
	loaded().rp_close(fd);
}

/** The most TCP connections the splice path keeps open at once; more are reset. */
export function pumpLimits(maxConns: number): void {
	loaded().rp_limits(maxConns);
}

/**
 * Sets the address new connections and flows dial. "invalid" for a non-IP, "loopback" for a
 * loopback or unspecified address (refused: the container's localhost stays private).
 */
export function pumpSetChild(ip: string): "ok" | "invalid" | "loopback" {
	const rc = loaded().rp_child_set(cstr(ip));
	return rc === 0 ? "ok" : rc === 2 ? "loopback" : "invalid";
}

/** A counter bumped by every switch of the address: cheap to poll per datagram. */
export function pumpChildGen(): number {
	return loaded().rp_child_gen();
}

const ipBuf = Buffer.alloc(64);

/** The address new connections dial now. */
export function pumpChild(): string {
	loaded().rp_child_get(ipBuf, ipBuf.length);
	return ipBuf.toString("latin1", 0, ipBuf.indexOf(0));
}

/**
 * Serves podman's reload socket `dir/name` (SOCK_SEQPACKET) on a pump thread. `dir` must exist
 * and be private (the caller checks). SysError on failure.
 */
export function pumpReloadStart(dir: string, name: string): void {
	const rc = loaded().rp_reload_start(cstr(dir), cstr(name));
	if (rc !== 0) throw new SysError("reload socket", rc, `${dir}/${name}`);
}

/** Removes the reload socket's file; the splice engine's exit does it by itself. */
export function pumpReloadStop(): void {
	pump?.rp_reload_stop();
}

/**
 * Hands stopping to the pump (splice engine): SIGTERM/SIGINT or EOF on `exitFd` (-1: none) end
 * the process with _exit(0) from C. Cheaper in memory than Bun's signal and stream machinery.
 */
export function pumpStopOn(exitFd: number): void {
	if (loaded().rp_stop_on(exitFd) !== 0) throw new Error("cannot start the exit fd watcher");
}
