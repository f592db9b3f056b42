// Conflist files in the CNI config dir: writing one exclusively (a name is claimed by creating
// its file, so two concurrent creates cannot both win), reading all, removing one.
import {
	chmodSync,
	closeSync,
	mkdirSync,
	openSync,
	readFileSync,
	rmSync,
	statSync,
	writeSync,
} from "node:fs";
import { ConflictError } from "../errors";

export function conflistPath(configDir: string, name: string): string {
	return `${configDir}/${name}.conflist`;
}

/** Writes `<dir>/<name>.conflist`, mode 0644 (other tools read it); the dir is made 0755. */
export function writeConflistFile(configDir: string, name: string, text: string): string {
	mkdirSync(configDir, { recursive: true, mode: 0o755 });
	const path = conflistPath(configDir, name);
	let fd: number;
	try {
		fd = openSync(path, "wx", 0o644);
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code === "EEXIST") {
			throw new ConflictError(`the network name ${name} is already used (${path} exists)`);
		}
		throw e;
	}
	try {
		writeSync(fd, text);
	} catch (e) {
		closeSync(fd);
		rmSync(path, { force: true });
		throw e;
	}
	closeSync(fd);
	chmodSync(path, 0o644); // the umask may have taken bits off
	return path;
}

export function removeConflistFile(path: string): void {
	rmSync(path, { force: true });
}

const LOCK_WAIT_MS = 10_000;

function holderAlive(lockPath: string): boolean {
	let text: string;
	let age: number;
	try {
		text = readFileSync(lockPath, "utf8");
		age = Date.now() - statSync(lockPath).mtimeMs;
	} catch {
		return false; // released meanwhile: try again
	}
	const pid = Number(text.trim());
	// Created but its pid not written yet: the holder is between open and write, unless the file
	// is old (it crashed right there).
	if (!Number.isInteger(pid) || pid <= 0) return age < 5000;
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		// EPERM: the process exists but is not ours to signal.
		return (e as NodeJS.ErrnoException).code === "EPERM";
	}
}

/**
 * Runs `fn` holding `<configDir>/.ctrnet-network.lock` (podman v2 held cni.lock the same way):
 * two `network create` at once cannot both pick the same free subnet or bridge. A lock left by a
 * dead process is taken over.
 */
export async function withConfigLock<T>(configDir: string, fn: () => Promise<T>): Promise<T> {
	mkdirSync(configDir, { recursive: true, mode: 0o755 });
	const lockPath = `${configDir}/.ctrnet-network.lock`;
	const deadline = Date.now() + LOCK_WAIT_MS;
	for (;;) {
		try {
			const fd = openSync(lockPath, "wx", 0o600);
			writeSync(fd, `${process.pid}\n`);
			closeSync(fd);
			break;
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
			if (!holderAlive(lockPath)) {
				rmSync(lockPath, { force: true });
				continue;
			}
			if (Date.now() > deadline) {
				throw new ConflictError(`timed out waiting for ${lockPath}`);
			}
			await Bun.sleep(5);
		}
	}
	try {
		return await fn();
	} finally {
		rmSync(lockPath, { force: true });
	}
}
