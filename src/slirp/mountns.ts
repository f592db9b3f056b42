// Make a child in a private mount namespace without a helper binary.
//
// Why: slirp4netns' --enable-sandbox (as real root) pivots into a new root and unmounts what it
// does not need; with shared propagation that unmount reaches the host and takes every named
// netns in /run/netns with it (seen on this machine). podman gives slirp4netns CLONE_NEWNS for
// this. Bun.spawn has no unshare option, and a multi-threaded process cannot setns into a mount
// namespace (bun-platform §1) — but it can unshare one on the JS thread: unshare(CLONE_NEWNS)
// also unshares the thread's fs_struct, after which setns back to the original mount namespace
// is allowed again (the kernel refuses it only while fs_struct is shared). Children fork from the
// JS thread, so a Bun.spawn in between is born in the private namespace (verified: the child's
// /proc/self/ns/mnt differs, ours is restored). Chosen over a C helper built with bun:ffi's cc
// (a compiler and headers at run time) and over util-linux's unshare(1) (an extra exec and a
// dependency) — and over dropping --enable-sandbox as root, which would lose its hardening.
//
// Root only: unshare(CLONE_NEWNS) needs CAP_SYS_ADMIN. Synchronous: nothing may await in between.
import {
	CLONE_NEWNS,
	close,
	MS_PRIVATE,
	MS_REC,
	mount,
	O_RDONLY,
	open,
	setns,
	unshare,
} from "../../ffi/libc";

export function inPrivateMountNs<T>(fn: () => T): T {
	const origin = open("/proc/thread-self/ns/mnt", O_RDONLY);
	try {
		unshare(CLONE_NEWNS);
		try {
			// Nothing done in the new namespace (by slirp4netns' sandbox) propagates back.
			mount(null, "/", null, MS_REC | MS_PRIVATE);
			return fn();
		} finally {
			// If this throws, the thread is stranded in the private namespace: let it surface.
			setns(origin, CLONE_NEWNS, "/proc/thread-self/ns/mnt");
		}
	} finally {
		close(origin);
	}
}
