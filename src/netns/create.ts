// Create a named network namespace the way `ip netns add` does, so iproute2 and ctrnet see each
// other's: an empty file in the netns dir, unshare(CLONE_NEWNET) on the JS thread, bind-mount
// the thread's new netns onto the file, return to the original netns. One synchronous block
// (DESIGN 1a); on any failure the thread is back home and the file is gone.
import { unlinkSync } from "node:fs";
import { join } from "node:path";
import { ERRNO, SysError } from "../../ffi/errno";
import {
	CLONE_NEWNET,
	close,
	gettid,
	MNT_DETACH,
	MS_BIND,
	mount,
	O_CREAT,
	O_EXCL,
	O_RDONLY,
	open,
	setns,
	umount2,
	unshare,
} from "../../ffi/libc";
import { isThenable, THREAD_NETNS } from "../../ffi/netns";
import { ConflictError } from "../errors";
import { setLinkUp } from "../netlink/link";
import { withNetlink } from "../netlink/socket";
import { ensureNetnsDir } from "./dir";
import { randomNetnsName, validateNetnsName } from "./names";

export interface CreateOptions {
	/**
	 * Runs inside the new namespace, after lo is up and before the thread returns; must be
	 * synchronous. If it throws, the namespace is removed again.
	 */
	inside?: (path: string) => void;
}

/** Creates `<dir>/<name>` (a random cni-… name when none is given) and returns its path. */
export function createNetns(dir: string, name?: string, opts: CreateOptions = {}): string {
	const n = name === undefined ? randomNetnsName() : validateNetnsName(name);
	ensureNetnsDir(dir);
	const path = join(dir, n);
	reserve(path, n);
	let mounted = false;
	let origin = -1;
	try {
		origin = open(THREAD_NETNS, O_RDONLY);
		try {
			unshare(CLONE_NEWNET);
			// thread-self, not self: only this thread moved (the others stay in the old netns).
			mount(`/proc/self/task/${gettid()}/ns/net`, path, "none", MS_BIND);
			mounted = true;
			// Loopback comes up down in a new netns; everything expects 127.0.0.1 to work.
			withNetlink(undefined, (nl) => setLinkUp(nl, "lo"));
			if (opts.inside) {
				const r: unknown = opts.inside(path);
				if (isThenable(r)) throw new TypeError("createNetns: `inside` must be synchronous");
			}
		} finally {
			setns(origin, CLONE_NEWNET, THREAD_NETNS);
		}
	} catch (e) {
		if (mounted) ignore(() => umount2(path, MNT_DETACH));
		ignore(() => unlinkSync(path));
		throw e;
	} finally {
		if (origin >= 0) close(origin);
	}
	return path;
}

/** Creates the empty mount-point file; O_EXCL, so an existing namespace is never touched. */
export function reserve(path: string, name: string): void {
	try {
		close(open(path, O_RDONLY | O_CREAT | O_EXCL, 0));
	} catch (e) {
		if (e instanceof SysError && e.errno === ERRNO.EEXIST) {
			throw new ConflictError(`netns ${name} already exists (${path})`);
		}
		throw e;
	}
}

function ignore(fn: () => void): void {
	try {
		fn();
	} catch {}
}
