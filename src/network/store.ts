// Conflist files in the CNI config dir: writing one exclusively (a name is claimed by creating
// its file, so two concurrent creates cannot both win), reading all, removing one.
import { mkdirSync, rmSync } from "node:fs";
import { ConflictError } from "../errors";
import { createFileAtomic } from "../files/atomic";
import { withFileLock } from "../files/lock";

export function conflistPath(configDir: string, name: string): string {
	return `${configDir}/${name}.conflist`;
}

/**
 * Writes `<dir>/<name>.conflist`, mode 0644 (other tools read it); the dir is made 0755. Whole or
 * not at all: a create killed half-way never leaves an empty or partial conflist behind.
 */
export function writeConflistFile(configDir: string, name: string, text: string): string {
	mkdirSync(configDir, { recursive: true, mode: 0o755 });
	const path = conflistPath(configDir, name);
	if (!createFileAtomic(path, text, 0o644)) {
		throw new ConflictError(`the network name ${name} is already used (${path} exists)`);
	}
	return path;
}

export function removeConflistFile(path: string): void {
	rmSync(path, { force: true });
}

/**
 * Runs `fn` holding `<configDir>/.ctrnet-network.lock` (podman v2 held cni.lock the same way):
 * two `network create` at once cannot both pick the same free subnet or bridge.
 */
export async function withConfigLock<T>(configDir: string, fn: () => Promise<T>): Promise<T> {
	mkdirSync(configDir, { recursive: true, mode: 0o755 });
	return withFileLock(`${configDir}/.ctrnet-network.lock`, "exclusive", fn);
}
