// Remove a named namespace: detach-unmount and unlink, like `ip netns del`. Only a path where a
// network namespace is mounted is touched — a typo must not unlink someone's regular file.
import { lstatSync, realpathSync, unlinkSync } from "node:fs";
import { ERRNO, SysError } from "../../ffi/errno";
import { MNT_DETACH, umount2 } from "../../ffi/libc";
import { NotFoundError, UsageError } from "../errors";

import { netnsInode, readMountsAt } from "./mountinfo";

export interface RemoveOptions {
	/**
	 * Also unlink an empty, unmounted file (what a ctrnet killed between creating the file and
	 * mounting onto it leaves behind). For gc; the CLI refuses such files.
	 */
	stale?: boolean;
}

export function removeNetns(path: string, opts: RemoveOptions = {}): void {
	let st: ReturnType<typeof lstatSync>;
	try {
		st = lstatSync(path);
	} catch {
		throw new NotFoundError(`netns ${path} does not exist`);
	}
	if (st.isSymbolicLink()) throw new UsageError(`refusing to remove ${path}: it is a symlink`);
	const real = realpathSync(path);
	const mounts = readMountsAt(real);
	if (mounts.length === 0) {
		if (opts.stale && st.isFile() && st.size === 0) {
			unlinkSync(real);
			return;
		}
		throw new UsageError(
			`refusing to remove ${path}: not a network namespace (nothing is mounted on it, see /proc/self/mountinfo)`,
		);
	}
	const foreign = mounts.find((m) => netnsInode(m) === undefined);
	if (foreign) {
		throw new UsageError(
			`refusing to remove ${path}: the mount on it is ${foreign.fsType} ${foreign.root}, not a network namespace (nsfs net:[…])`,
		);
	}
	// A file can carry stacked mounts (pinned twice), and one path can be listed more than once
	// (the dir bind-mounted twice, mounts propagating to both): unmount until nothing is left,
	// which umount2 reports as EINVAL. Bounded, in case something keeps mounting.
	for (let i = 0; i <= mounts.length; i++) {
		try {
			umount2(real, MNT_DETACH);
		} catch (e) {
			if (i > 0 && e instanceof SysError && e.errno === ERRNO.EINVAL) break;
			throw e;
		}
	}
	unlinkSync(real);
}
