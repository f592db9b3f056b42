// The per-network lock that keeps a bridge's removal from racing a container's attachment.
//
// flock(2) on `<lockDir>/<network>.lock`: every setup holds it SHARED while it makes sure the
// bridge exists and attaches its veth (setups never wait for each other), and the teardown that
// finds the bridge without ports takes it EXCLUSIVE, looks again, and only then deletes the
// bridge. So no setup can be between "the bridge is there" and "my veth is on it" while the
// bridge goes away. The kernel drops the lock when its holder dies, so a crash never leaves the
// network locked. Lock files are left in place: deleting one while another process waits on it
// would hand out two locks on two different files.
//
// flock locks belong to an open file description: a process that holds one and asks for
// another on the same network through a second open deadlocks itself; take each network's lock
// once, and one network at a time.
import { mkdirSync } from "node:fs";
import { ERRNO, SysError } from "../../ffi/errno";
import { close, flock, LOCK_EX, LOCK_SH, LOCK_UN, O_CREAT, O_RDWR, open } from "../../ffi/libc";

export type LockMode = "shared" | "exclusive";

export interface NetworkLock extends Disposable {
	readonly path: string;
	readonly mode: LockMode;
	release(): void;
}

const SAFE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,199}$/;

/** The lock file of a network: its name when that is a plain file name, else a hash of it. */
export function lockPath(lockDir: string, network: string): string {
	if (SAFE_NAME.test(network)) return `${lockDir}/${network}.lock`;
	const h = new Bun.CryptoHasher("sha256").update(network).digest("hex").slice(0, 32);
	return `${lockDir}/net-${h}.lock`;
}

function openLockFile(path: string, dir: string): number {
	try {
		return open(path, O_RDWR | O_CREAT, 0o600);
	} catch (e) {
		if (!(e instanceof SysError && e.errno === ERRNO.ENOENT)) throw e;
		mkdirSync(dir, { recursive: true, mode: 0o700 });
		return open(path, O_RDWR | O_CREAT, 0o600);
	}
}

/** Blocks until the lock on `network` is held in `mode`; release it (or `using` it) when done. */
export function lockNetwork(lockDir: string, network: string, mode: LockMode): NetworkLock {
	const path = lockPath(lockDir, network);
	const fd = openLockFile(path, lockDir);
	try {
		for (;;) {
			try {
				flock(fd, mode === "shared" ? LOCK_SH : LOCK_EX, path);
				break;
			} catch (e) {
				if (!(e instanceof SysError && e.errno === ERRNO.EINTR)) throw e;
			}
		}
	} catch (e) {
		close(fd);
		throw e;
	}
	let held = true;
	const release = () => {
		if (!held) return;
		held = false;
		try {
			flock(fd, LOCK_UN, path);
		} finally {
			close(fd);
		}
	};
	return { path, mode, release, [Symbol.dispose]: release };
}
