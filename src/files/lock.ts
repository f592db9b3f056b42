// Advisory locks on a file with flock(2): the kernel drops a lock when its holder dies, so a
// kill -9 can never leave one behind (a pid file would need a liveness guess). Waiting polls with
// LOCK_NB rather than blocking the JS thread without a bound.
import { ERRNO, SysError } from "../../ffi/errno";
import {
	close,
	flock,
	LOCK_EX,
	LOCK_NB,
	LOCK_SH,
	LOCK_UN,
	O_CREAT,
	O_NOFOLLOW,
	O_RDWR,
	open,
} from "../../ffi/libc";
import { ConflictError } from "../errors";

export type LockMode = "shared" | "exclusive";

/** Runs `fn` holding a lock on `path` (created 0600 if missing; a symlink is refused). */
export async function withFileLock<T>(
	path: string,
	mode: LockMode,
	fn: () => Promise<T> | T,
	timeoutMs = 30_000,
): Promise<T> {
	const fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
	try {
		const op = (mode === "shared" ? LOCK_SH : LOCK_EX) | LOCK_NB;
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			try {
				flock(fd, op, path);
				break;
			} catch (e) {
				if (!(e instanceof SysError && e.errno === ERRNO.EAGAIN)) throw e;
				if (Date.now() > deadline)
					throw new ConflictError(`timed out waiting for the lock ${path}`);
				await Bun.sleep(2);
			}
		}
		try {
			return await fn();
		} finally {
			flock(fd, LOCK_UN, path);
		}
	} finally {
		close(fd);
	}
}
