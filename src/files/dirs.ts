// Directories ctrnet keeps its state and runtime files in must be the user's own. A rootless run
// root defaults to /tmp/ctrnet-$UID when XDG_RUNTIME_DIR is unset, and any local user can create
// that name first (with a symlink inside pointing at the victim's files). So, like podman, ctrnet
// refuses a directory that someone else controls: every component of the path must belong to the
// user or to root, and only root's sticky directories (/tmp) may be writable by others.
import { lstatSync, mkdirSync, type Stats } from "node:fs";
import { UsageError } from "../errors";

const S_ISVTX = 0o1000;

/** Why `st` (of `path`) is not safe for a process of `euid`, or undefined when it is. */
export function unsafeDirReason(
	path: string,
	st: Stats,
	euid: number,
	last: boolean,
): string | undefined {
	if (st.isSymbolicLink()) {
		// /var/run -> /run and the like: the system's own links are fine, a user's are not.
		return st.uid === 0 && !last ? undefined : `${path} is a symlink`;
	}
	if (!st.isDirectory()) return `${path} is not a directory`;
	if (st.uid !== euid && st.uid !== 0) return `${path} is owned by uid ${st.uid}, not by you`;
	const othersWrite = (st.mode & 0o022) !== 0;
	if (othersWrite && !(st.uid === 0 && st.mode & S_ISVTX))
		return `${path} is writable by other users (mode ${(st.mode & 0o7777).toString(8)})`;
	if (last && st.uid !== euid) return `${path} is owned by uid ${st.uid}, not by you`;
	return undefined;
}

/**
 * Makes `path` (absolute) exist as a directory the user controls: missing components are created
 * with `mode`, every component is checked. Throws UsageError naming the first bad one.
 */
export function ensureOwnedDir(path: string, mode: number, euid: number): void {
	const parts = path.split("/").filter(Boolean);
	let at = "";
	for (let i = 0; i < parts.length; i++) {
		at += `/${parts[i]}`;
		const last = i === parts.length - 1;
		let st = lstatSync(at, { throwIfNoEntry: false });
		if (!st) {
			try {
				mkdirSync(at, { mode });
			} catch (e) {
				if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
			}
			st = lstatSync(at);
		}
		const why = unsafeDirReason(at, st, euid, last);
		if (why) throw new UsageError(`refusing to use ${path}: ${why}`);
	}
}
