// The native side of an unwaited netlink request (detached.c): the request is sent by a child
// process sharing our memory, so the kernel's work after it (an RCU grace period, for a device
// deletion) is waited for there, not here. Loaded from memory on first use (compiled.ts).
import { FFIType as T } from "bun:ffi";
import so from "./build/detached.so" with { type: "file" };
import { loadCompiled } from "./compiled";

interface Detached {
	nl_send_detached(fd: number, msg: Uint8Array, len: number): number;
}
let lib: Detached | null | undefined;

function load(): Detached | null {
	if (lib !== undefined) return lib;
	try {
		const l = loadCompiled("detached", so, {
			nl_send_detached: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
		});
		lib = l.symbols as unknown as Detached;
	} catch {
		lib = null; // no memfd or dlopen here: callers send the request themselves
	}
	return lib;
}

/**
 * Sends `msg` on the netlink socket `fd` from a detached child. False when no child could be
 * started — then nothing was sent, and the caller sends it itself.
 */
export function sendDetached(fd: number, msg: Uint8Array): boolean {
	const l = load();
	return l !== null && l.nl_send_detached(fd, msg, msg.byteLength) > 0;
}
