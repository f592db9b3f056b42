// The netns directory, made a shared mount point the way iproute2 does (ip/ipnetns.c): so that
// a namespace mounted here later also appears in mount namespaces that were copied before (a
// container that bind-mounted the dir, a daemon started earlier), and `ip netns` sees ours.
import { mkdirSync } from "node:fs";
import { ERRNO, SysError } from "../../ffi/errno";
import {
	close,
	flock,
	LOCK_EX,
	MS_BIND,
	MS_REC,
	MS_SHARED,
	mount,
	O_RDONLY,
	open,
} from "../../ffi/libc";

export function ensureNetnsDir(dir: string): void {
	mkdirSync(dir, { recursive: true, mode: 0o711 });
	// Making it shared fails with EINVAL while the dir is not a mount point: then bind-mount it
	// onto itself and try again. The usual case (already a mount point) is one mount(2) call.
	if (makeShared(dir)) return;
	// First use. Two ctrnets starting at once would both see EINVAL and stack two bind mounts
	// (iproute2 has that race); an flock on the directory itself lets only one of them mount.
	const fd = open(dir, O_RDONLY);
	try {
		flock(fd, LOCK_EX, dir); // released by close
		if (makeShared(dir)) return;
		mount(dir, dir, "none", MS_BIND | MS_REC);
		if (!makeShared(dir)) throw new SysError("mount", ERRNO.EINVAL, `${dir} (make shared)`);
	} finally {
		close(fd);
	}
}

/** mount --make-rshared; false when `dir` is not a mount point (EINVAL). */
function makeShared(dir: string): boolean {
	try {
		mount("", dir, "none", MS_SHARED | MS_REC);
		return true;
	} catch (e) {
		if (e instanceof SysError && e.errno === ERRNO.EINVAL) return false;
		throw e;
	}
}
