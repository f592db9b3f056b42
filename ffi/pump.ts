// The kernel-side TCP data path of rootlessport (pump.c), compiled at run time by bun:ffi's cc.
// TinyCC cannot read the binary's embedded files (/$bunfs), so the source is written to a private
// temporary directory, compiled, and removed. Loaded once; null when it cannot be (then the
// caller falls back to the JS data path).
import { cc, FFIType as T } from "bun:ffi";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { SysError } from "./errno";
import source from "./pump.c" with { type: "text" };

type Pump = {
	rp_start: (l: number, ns: number, addr: Uint8Array, len: number, fam: number) => number;
};
let pump: Pump | null | undefined;

/** Compiles pump.c once; returns null (with the reason in `why`) when that is not possible. */
export function loadPump(tmpDir = "/tmp", why: (msg: string) => void = () => {}): boolean {
	if (pump !== undefined) return pump !== null;
	let dir: string | undefined;
	try {
		dir = mkdtempSync(`${tmpDir}/ctrnet-pump-`);
		writeFileSync(`${dir}/pump.c`, source, { mode: 0o600 });
		const lib = cc({
			source: `${dir}/pump.c`,
			symbols: { rp_start: { args: [T.i32, T.i32, T.ptr, T.i32, T.i32], returns: T.i32 } },
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

/**
 * Forwards every connection accepted on `listenFd` to `target` (a sockaddr), dialled from a
 * thread inside the netns open at `netnsFd` (which may be closed afterwards). Throws SysError
 * when that thread cannot enter the netns.
 */
export function startPump(
	listenFd: number,
	netnsFd: number,
	target: Uint8Array,
	family: number,
): void {
	if (!pump) throw new Error("pump not loaded");
	const rc = pump.rp_start(listenFd, netnsFd, target, target.byteLength, family);
	if (rc > 0) throw new SysError("setns", rc);
	if (rc < 0) throw new Error("cannot start a forwarding thread");
}
