// The network definition files: one `<name>.json` per network in a directory that podman 4 reads
// too (/etc/containers/networks as root). A bad file is reported and skipped, never fatal for the
// others (podman logs and skips it the same way). Writes are atomic: a reader sees the old file or
// the new one, never a part.
import { fsyncSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { ConflictError, NotFoundError, UsageError } from "../errors";
import { createFileAtomic, withDir, writeFileAtomic } from "../files/atomic";
import { formatNetworkDef } from "./format";
import { NETWORK_NAME, type NetworkDef } from "./schema";
import { checkName, parseNetworkDef } from "./validate";

export interface NetworkFileProblem {
	file: string;
	message: string;
}

export interface NetworkList {
	/** Valid definitions, sorted by name. */
	networks: NetworkDef[];
	/** Files that were skipped, with why. */
	problems: NetworkFileProblem[];
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

export function networkFilePath(dir: string, name: string): string {
	checkName(name);
	return `${dir}/${name}.json`;
}

/** Reads and checks one file; its name must be `<network name>.json` (podman skips it otherwise). */
function readFile(dir: string, file: string): NetworkDef {
	const def = parseNetworkDef(readFileSync(`${dir}/${file}`, "utf8"));
	if (`${def.name}.json` !== file) {
		throw new UsageError(`network name ${def.name} does not match file name ${file}`);
	}
	return def;
}

/** Every `*.json` in `dir` (none when the dir does not exist). */
export function listNetworkDefs(dir: string): NetworkList {
	let entries: string[];
	try {
		entries = readdirSync(dir);
	} catch (e) {
		if (code(e) === "ENOENT") return { networks: [], problems: [] };
		throw e;
	}
	const networks: NetworkDef[] = [];
	const problems: NetworkFileProblem[] = [];
	for (const file of entries.sort()) {
		if (!file.endsWith(".json") || file.startsWith(".")) continue;
		try {
			networks.push(readFile(dir, file));
		} catch (e) {
			// Removed meanwhile, or a directory named *.json: not a network, not a problem.
			if (code(e) === "ENOENT" || code(e) === "EISDIR") continue;
			problems.push({ file: `${dir}/${file}`, message: (e as Error).message });
		}
	}
	networks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	return { networks, problems };
}

/**
 * The network named `nameOrId`, or the one whose ID starts with it (podman's lookup); a name is
 * one file read. A bad file under that name is an error, not "not found".
 */
export function getNetworkDef(dir: string, nameOrId: string): NetworkDef {
	const notFound = () =>
		new NotFoundError(`unable to find network with name or ID ${nameOrId}: network not found`);
	if (nameOrId === "") throw notFound();
	if (NETWORK_NAME.test(nameOrId)) {
		try {
			return readFile(dir, `${nameOrId}.json`);
		} catch (e) {
			if (code(e) !== "ENOENT") {
				if (e instanceof UsageError) {
					throw new UsageError(`${dir}/${nameOrId}.json: ${e.message}`);
				}
				throw e;
			}
		}
	}
	const matches = listNetworkDefs(dir).networks.filter((n) => n.id.startsWith(nameOrId));
	if (matches.length > 1) {
		throw new ConflictError(`more than one result for network ID ${nameOrId}`);
	}
	const found = matches[0];
	if (!found) throw notFound();
	return found;
}

/**
 * Writes `<dir>/<name>.json` (mode 0644, podman's layout) atomically through files/atomic: renamed
 * over the old file (`replace`) or linked into place, which fails if the name exists (a create:
 * two at once cannot both win). The dir is made 0755 if missing and fsynced after. Returns the path.
 */
export function writeNetworkDef(
	dir: string,
	def: NetworkDef,
	opts: { replace?: boolean } = {},
): string {
	const path = networkFilePath(dir, def.name);
	mkdirSync(dir, { recursive: true, mode: 0o755 });
	const text = formatNetworkDef(def);
	if (opts.replace) {
		writeFileAtomic(path, text, { mode: 0o644 });
	} else if (!createFileAtomic(path, text, 0o644)) {
		throw new ConflictError(`network name ${def.name} already used: network already exists`);
	}
	withDir(dir, (dirFd) => fsyncSync(dirFd));
	return path;
}

/** Removes `<dir>/<name>.json`; NotFoundError when there is none. */
export function removeNetworkDef(dir: string, name: string): void {
	try {
		unlinkSync(networkFilePath(dir, name));
	} catch (e) {
		if (code(e) === "ENOENT") {
			throw new NotFoundError(`unable to find network with name or ID ${name}: network not found`);
		}
		throw e;
	}
}
