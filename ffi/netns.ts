// Run a synchronous function with the JS thread inside another network namespace, and always
// come back. DESIGN 1a: netns work is enter → act → leave in one synchronous block, never
// across an await — an await would let other callbacks run (and lazily created Bun threads
// be born) in the foreign namespace. That is why a function returning a promise is refused.
// It lives in ffi/ because both src/netlink (sockets opened inside a namespace) and src/netns
// (which brings loopback up through netlink) stand on it.
import { CLONE_NEWNET, close, O_RDONLY, open, setns } from "./libc";

/** The JS thread's own netns; thread-self, because only this thread moves (bun-platform §1). */
export const THREAD_NETNS = "/proc/thread-self/ns/net";

/** A promise or anything awaitable: what a netns callback must not return. */
export function isThenable(v: unknown): boolean {
	return (
		v !== null &&
		(typeof v === "object" || typeof v === "function") &&
		typeof (v as { then?: unknown }).then === "function"
	);
}

/**
 * Enters the netns at `path` (a bind-mounted nsfs file or /proc/PID/ns/net), runs `fn`, and
 * returns to the namespace the thread was in before — also when `fn` throws. Sockets and
 * children made by `fn` stay in the target namespace after we return.
 */
export function inNetns<T>(path: string, fn: () => T): T {
	const origin = open(THREAD_NETNS, O_RDONLY);
	let target = -1;
	try {
		target = open(path, O_RDONLY);
		setns(target, CLONE_NEWNET, path);
		let result: T;
		try {
			result = fn();
		} finally {
			// If this throws the thread is stranded in a foreign netns; let the error surface
			// rather than carry on silently in the wrong namespace.
			setns(origin, CLONE_NEWNET, THREAD_NETNS);
		}
		if (isThenable(result)) {
			throw new TypeError(
				"inNetns: the function returned a promise; netns work must be synchronous (DESIGN 1a)",
			);
		}
		return result;
	} finally {
		if (target >= 0) close(target);
		close(origin);
	}
}
