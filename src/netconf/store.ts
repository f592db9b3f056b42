// The network definition files: one `<name>.json` per network in a directory that podman 4 reads
// too (/etc/containers/networks as root). A bad file is reported and skipped, never fatal for the
// others (podman logs and skips it the same way). Writes are atomic: a reader sees the old file or
// the new one, never a part.
import {
	closeSync,
	fchmodSync,
	fsyncSync,
	linkSync,
	mkdirSync,
	openSync,
	readdirSync,
	readFileSync,
	renameSync,
	unlinkSync,
	writeSync,
} from "node:fs";
import {
	O_CLOEXEC,
	O_CREAT,
	O_DIRECTORY,
	O_EXCL,
	O_NOFOLLOW,
	O_RDONLY,
	O_WRONLY,
} from "../../ffi/constants";
import { ConflictError, NotFoundError, UsageError } from "../errors";
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

function syncDir(dir: string): void {
	const fd = openSync(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	try {
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
}

function randomSuffix(): string {
	return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) =>
		b.toString(16).padStart(2, "0"),
	).join("");
}

/**
 * Writes `<dir>/<name>.json` (mode 0644, podman's layout) atomically: a temp file made with
 * O_EXCL|O_NOFOLLOW in the same dir, fsynced, then renamed over the old file (`replace`) or linked
 * into place, which fails if the name exists (a create: two at once cannot both win). The dir is
 * made 0755 if missing. Returns the path.
 */
export function writeNetworkDef(
	dir: string,
	def: NetworkDef,
	opts: { replace?: boolean } = {},
): string {
	const path = networkFilePath(dir, def.name);
	mkdirSync(dir, { recursive: true, mode: 0o755 });
	// Starts with a dot and does not end in .json: podman and listNetworkDefs skip it.
	const tmp = `${dir}/.ctrnet-${randomSuffix()}.tmp`;
	const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644);
	try {
		try {
			const buf = Buffer.from(formatNetworkDef(def));
			let off = 0;
			while (off < buf.length) off += writeSync(fd, buf, off);
			fchmodSync(fd, 0o644); // the umask may have taken bits off; other tools read it
			fsyncSync(fd);
		} finally {
			closeSync(fd);
		}
		if (opts.replace) {
			renameSync(tmp, path);
		} else {
			try {
				linkSync(tmp, path);
			} catch (e) {
				if (code(e) === "EEXIST") {
					throw new ConflictError(`network name ${def.name} already used: network already exists`);
				}
				throw e;
			}
			unlinkSync(tmp);
		}
	} catch (e) {
		try {
			unlinkSync(tmp);
		} catch {
			// already renamed or never there
		}
		throw e;
	}
	syncDir(dir);
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
