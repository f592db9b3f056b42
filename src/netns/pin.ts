// Pin a running process's network namespace to a file, as podman's setupNetNS does for
// `--pid` and the OCI hook: teardown must still find the namespace after the process is gone.
import { unlinkSync } from "node:fs";
import { basename, dirname, isAbsolute } from "node:path";
import { ERRNO, SysError } from "../../ffi/errno";
import { MS_BIND, mount } from "../../ffi/libc";
import { NotFoundError, UsageError } from "../errors";
import { reserve } from "./create";
import { ensureNetnsDir } from "./dir";
import { validateNetnsName } from "./names";

/** Bind-mounts /proc/PID/ns/net onto `path` (a new file in a netns dir) and returns `path`. */
export function pinNetns(pid: number, path: string): string {
	if (!Number.isSafeInteger(pid) || pid <= 0) throw new UsageError(`invalid pid ${pid}`);
	if (!isAbsolute(path) || path.split("/").includes("..")) {
		throw new UsageError(
			`invalid netns path ${JSON.stringify(path)}: must be absolute, without '..'`,
		);
	}
	const name = validateNetnsName(basename(path));
	ensureNetnsDir(dirname(path));
	reserve(path, name);
	try {
		mount(`/proc/${pid}/ns/net`, path, "none", MS_BIND);
	} catch (e) {
		try {
			unlinkSync(path);
		} catch {}
		if (e instanceof SysError && e.errno === ERRNO.ENOENT) {
			throw new NotFoundError(`cannot pin the netns of process ${pid}: no such process`);
		}
		throw e;
	}
	return path;
}
