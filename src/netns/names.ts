// Namespace names and the paths they become. A name is validated before it is joined to the
// netns dir, so `../x`, `a/b` or an empty name never reach the filesystem.
import { basename, isAbsolute, join, normalize } from "node:path";
import { NAME_PATTERN } from "../config/schema";
import { UsageError } from "../errors";
import { randomHex } from "../random";

/** Returns the name when it is usable as a file name in the netns dir; throws UsageError. */
export function validateNetnsName(name: string): string {
	if (name === "") throw new UsageError('invalid netns name "": must not be empty');
	if (name.includes("/"))
		throw new UsageError(`invalid netns name ${JSON.stringify(name)}: must not contain '/'`);
	if (name.length > 253)
		throw new UsageError(
			`invalid netns name ${JSON.stringify(name.slice(0, 20))}…: longer than 253 characters`,
		);
	if (!NAME_PATTERN.test(name) || name.includes("..")) {
		throw new UsageError(
			`invalid netns name ${JSON.stringify(name)}: must match ${NAME_PATTERN.source} and not contain '..'`,
		);
	}
	return name;
}

/** podman's scheme: "cni-" + 16 random bytes as 8-4-4-4-12 hex (uuid-shaped, not a uuid). */
export function randomNetnsName(): string {
	const h = randomHex(16);
	return `cni-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * What the CLI accepts for an existing namespace: a NAME in `dir`, or an absolute PATH (any
 * nsfs file, e.g. another tool's). A relative path is refused rather than guessed at.
 */
export function resolveNetnsRef(ref: string, dir: string): { name: string; path: string } {
	if (ref.includes("/")) {
		if (!isAbsolute(ref) || ref.split("/").includes("..")) {
			throw new UsageError(
				`invalid netns path ${JSON.stringify(ref)}: must be absolute, without '..'`,
			);
		}
		const path = normalize(ref);
		return { name: basename(path), path };
	}
	return { name: validateNetnsName(ref), path: join(dir, ref) };
}
