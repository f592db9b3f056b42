// The kernel-side TCP data path of rootlessport (pump.c), compiled at run time by bun:ffi's cc.
// TinyCC cannot read the binary's embedded files (/$bunfs), so the source is written to a private
// temporary directory, compiled, and removed. Loaded once; false when it cannot be (then the
// caller falls back to the JS data path). The listener is made in C too, so the splice path does
// not load libc.ts' symbol table (a few MB of the forwarder's RSS budget).
import { cc, FFIType as T } from "bun:ffi";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { SysError } from "./errno";
import source from "./pump.c" with { type: "text" };

interface Pump {
	rp_listen(addr: Uint8Array, len: number, family: number, backlog: number): number;
	rp_start(listenFd: number, netns: Buffer, addr: Uint8Array, len: number, family: number): number;
	rp_close(fd: number): void;
	rp_stop_on(exitFd: number): number;
}
let pump: Pump | null | undefined;

/** Compiles pump.c once; false (with the reason given to `why`) when that is not possible. */
export function loadPump(tmpDir = "/tmp", why: (msg: string) => void = () => {}): boolean {
	if (pump !== undefined) return pump !== null;
	let dir: string | undefined;
	try {
		dir = mkdtempSync(`${tmpDir}/ctrnet-pump-`);
		writeFileSync(`${dir}/pump.c`, source, { mode: 0o600 });
		const lib = cc({
			source: `${dir}/pump.c`,
			symbols: {
				rp_listen: { args: [T.ptr, T.i32, T.i32, T.i32], returns: T.i32 },
				rp_start: { args: [T.i32, T.ptr, T.ptr, T.i32, T.i32], returns: T.i32 },
				rp_close: { args: [T.i32], returns: T.void },
				rp_stop_on: { args: [T.i32], returns: T.i32 },
			},
		});
		pump = lib.symbols as unknown as Pump;
	} catch (err) {
		why(err instanceof Error ? err.message : String(err));
		pump = null;
	} finally {
		if (dir) rmSync(dir, { recursive: true, force: true });
	}
	return pump !== null;
}

function loaded(): Pump {
	if (!pump) throw new Error("pump not loaded");
	return pump;
}

/** A listening socket on `addr` in this thread's netns; SysError (code EADDRINUSE, …) if not. */
export function pumpListen(addr: Uint8Array, family: number, backlog = 4096): number {
	const fd = loaded().rp_listen(addr, addr.byteLength, family, backlog);
	if (fd < 0) throw new SysError("listen", -fd);
	return fd;
}

/**
 * Forwards every connection accepted on `listenFd` to `target` (a sockaddr), dialled from a
 * thread inside the netns at `netnsPath`. SysError when that netns cannot be opened or entered.
 */
export function pumpStart(
	listenFd: number,
	netnsPath: string,
	target: Uint8Array,
	family: number,
): void {
	const rc = loaded().rp_start(
		listenFd,
		Buffer.from(`${netnsPath}\0`),
		target,
		target.byteLength,
		family,
	);
	if (rc > 0) throw new SysError("setns", rc, netnsPath);
	if (rc < 0) throw new Error("cannot start a forwarding thread");
}

/** Stops a listener made by pumpListen (its acceptor thread ends; connections go on). */
export function pumpClose(fd: number): void {
	loaded().rp_close(fd);
}

/**
 * Hands stopping to the pump (splice engine): SIGTERM/SIGINT or EOF on `exitFd` (-1: none) end
 * the process with _exit(0) from C. Cheaper in memory than Bun's signal and stream machinery.
 */
export function pumpStopOn(exitFd: number): void {
	if (loaded().rp_stop_on(exitFd) !== 0) throw new Error("cannot start the exit fd watcher");
}
