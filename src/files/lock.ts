// Advisory locks on a file with flock(2): the kernel drops a lock when its holder dies, so a
// kill -9 can never leave one behind (a pid file would need a liveness guess). Lock files stay in
// place: removing one while another process waits on it would hand out two locks on two files.
// flock locks belong to an open file description: a process asking twice for one file (through two
// opens) waits for itself.
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

export interface HeldLock extends Disposable {
	readonly path: string;
	release(): void;
}

const opOf = (mode: LockMode) => (mode === "shared" ? LOCK_SH : LOCK_EX);

function held(path: string, fd: number): HeldLock {
	let on = true;
	const release = () => {
		if (!on) return;
		on = false;
		try {
			flock(fd, LOCK_UN, path);
		} finally {
			close(fd);
		}
	};
	return { path, release, [Symbol.dispose]: release };
}

/** Opens `path` (created 0600 if missing; a symlink is refused). */
function openLock(path: string): number {
	return open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
}

/** Blocks until the lock is held; release it (or `using` it) when done. For synchronous code. */
export function lockFileSync(path: string, mode: LockMode): HeldLock {
	const fd = openLock(path);
	try {
		for (;;) {
			try {
				flock(fd, opOf(mode), path);
				return held(path, fd);
			} catch (e) {
				if (!(e instanceof SysError && e.errno === ERRNO.EINTR)) throw e;
			}
		}
	} catch (e) {
		close(fd);
		throw e;
	}
}

/**
 * Runs `fn` holding a lock on `path`. Waiting polls with LOCK_NB (the event loop keeps running,
 * and the wait is bounded).
 */
export async function withFileLock<T>(
	path: string,
	mode: LockMode,
	fn: () => Promise<T> | T,
	timeoutMs = 30_000,
): Promise<T> {
	const fd = openLock(path);
	let lock: HeldLock;
	try {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			try {
				flock(fd, opOf(mode) | LOCK_NB, path);
				break;
			} catch (e) {
				if (!(e instanceof SysError && e.errno === ERRNO.EAGAIN)) throw e;
				if (Date.now() > deadline)
					throw new ConflictError(`timed out waiting for the lock ${path}`);
				await Bun.sleep(2);
			}
		}
		lock = held(path, fd);
	} catch (e) {
		close(fd);
		throw e;
	}
	try {
		return await fn();
	} finally {
		lock.release();
	}
}
