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
import { type HeldLock, type LockMode, lockFileSync } from "../files/lock";

export type { LockMode };

export interface NetworkLock extends HeldLock {
	readonly mode: LockMode;
}

const SAFE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,199}$/;

/** The lock file of a network: its name when that is a plain file name, else a hash of it. */
export function lockPath(lockDir: string, network: string): string {
	if (SAFE_NAME.test(network)) return `${lockDir}/${network}.lock`;
	const h = new Bun.CryptoHasher("sha256").update(network).digest("hex").slice(0, 32);
	return `${lockDir}/net-${h}.lock`;
}

/** Blocks until the lock on `network` is held in `mode`; release it (or `using` it) when done. */
export function lockNetwork(lockDir: string, network: string, mode: LockMode): NetworkLock {
	const path = lockPath(lockDir, network);
	mkdirSync(lockDir, { recursive: true, mode: 0o700 });
	return { ...lockFileSync(path, mode), mode };
}
