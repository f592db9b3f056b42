// In-process native code (ffi/*.c): compiled once at build time by ffi/build-native into
// ffi/build/<name>.so, embedded in the executable as a file, and loaded here with dlopen.
//
// Why not bun:ffi's cc at run time: it writes its headers into a shared `$TMPDIR/bun-cc-<uid>`
// and, when that exists but belongs to someone else (a rootless process whose uid is 0 in its
// user namespace), into a new `.<hash>-0.bun-cc` on every start, never removed. And the
// embedded file cannot be handed to dlopen as it is (/$bunfs is not a real path).
//
// How it loads, touching no shared directory:
// 1. a memfd (memfd_create: Linux >= 3.17, glibc >= 2.27) holding the bytes, dlopen'ed through
//    /proc/self/fd/N. The fd stays open: glibc recognises an already loaded object by its path,
//    so a reused fd number would hand back the previous library. Where that fails (no memfd,
//    no /proc, vm.memfd_noexec=2):
// 2. a cache file in `cacheDir`, a directory the running user owns and nobody
//    else can write (refused otherwise), named by a hash of the bytes; written under a temporary
//    name with O_CREAT|O_EXCL|O_NOFOLLOW and renamed into place, reused while it is unchanged.
import { dlopen, type FFIFunction, type Library, FFIType as T } from "bun:ffi";
import {
	closeSync,
	lstatSync,
	mkdirSync,
	openSync,
	readFileSync,
	renameSync,
	type Stats,
	unlinkSync,
	writeSync,
} from "node:fs";
import { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } from "./constants";

const MFD_CLOEXEC = 1;
/** Linux >= 6.3: executable on purpose, in case vm.memfd_noexec would seal it otherwise. */
const MFD_EXEC = 0x10;

export interface LoadOptions {
	/** Where a cache file may be kept when memfd is unavailable; without it, memfd only. */
	cacheDir?: string;
	/** false: skip memfd (tests of the cache path). */
	memfd?: boolean;
}

/** Why native code could not be loaded; the caller decides whether to fall back. */
export class CompiledLoadError extends Error {
	override name = "CompiledLoadError";
}

const loaded = new Map<string, Library<Record<string, FFIFunction>>>();

/**
 * Loads the shared object at `soPath` (an embedded file: `import so from "./build/x.so" with
 * { type: "file" }`) and returns its `symbols`. Loaded once per `name` and process.
 */
export function loadCompiled<S extends Record<string, FFIFunction>>(
	name: string,
	soPath: string,
	symbols: S,
	opts: LoadOptions = {},
): Library<S> {
	const done = loaded.get(name);
	if (done) return done as unknown as Library<S>;
	let bytes: Uint8Array;
	try {
		bytes = readFileSync(soPath);
	} catch (err) {
		throw new CompiledLoadError(`${name}: cannot read ${soPath}: ${message(err)}`);
	}
	const reasons: string[] = [];
	let lib: Library<S> | undefined;
	if (opts.memfd !== false) {
		let fd = -1;
		try {
			fd = memfdWith(name, bytes);
			lib = dlopen(`/proc/self/fd/${fd}`, symbols);
		} catch (err) {
			if (fd >= 0) closeSync(fd);
			reasons.push(`memfd: ${message(err)}`);
		}
	}
	if (!lib && opts.cacheDir) {
		try {
			lib = dlopen(cachedCopy(opts.cacheDir, name, bytes), symbols);
		} catch (err) {
			reasons.push(`cache: ${message(err)}`);
		}
	}
	if (!lib) throw new CompiledLoadError(`${name}: ${reasons.join("; ") || "no way to load it"}`);
	loaded.set(name, lib as unknown as Library<Record<string, FFIFunction>>);
	return lib;
}

let memfdCreate: ((name: Buffer, flags: number) => number) | undefined;

/** An anonymous file holding `bytes`; its fd (left open, see above). */
function memfdWith(name: string, bytes: Uint8Array): number {
	memfdCreate ??= dlopen("libc.so.6", {
		memfd_create: { args: [T.ptr, T.u32], returns: T.i32 },
	}).symbols.memfd_create as (name: Buffer, flags: number) => number;
	const label = Buffer.from(`ctrnet-${name}\0`);
	// An older kernel refuses MFD_EXEC (EINVAL): without it, its memfds are executable anyway.
	let fd = memfdCreate(label, MFD_CLOEXEC | MFD_EXEC);
	if (fd < 0) fd = memfdCreate(label, MFD_CLOEXEC);
	if (fd < 0) throw new Error("memfd_create failed");
	try {
		for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off);
	} catch (err) {
		closeSync(fd);
		throw err;
	}
	return fd;
}

/** A private directory: ours, not a symlink, writable by nobody else. Throws otherwise. */
export function checkPrivateDir(dir: string, st: Stats = lstatSync(dir)): void {
	const euid = process.geteuid?.() ?? 0;
	if (st.isSymbolicLink()) throw new Error(`refusing ${dir}: a symbolic link`);
	if (!st.isDirectory()) throw new Error(`refusing ${dir}: not a directory`);
	if (st.uid !== euid) throw new Error(`refusing ${dir}: owned by uid ${st.uid}, not ${euid}`);
	if (st.mode & 0o022) {
		throw new Error(`refusing ${dir}: writable by group or others (mode ${modeText(st)})`);
	}
}

const modeText = (st: Stats) => (st.mode & 0o7777).toString(8).padStart(4, "0");

/** The path of an up-to-date private copy of `bytes` in `dir` (made 0700 if missing). */
function cachedCopy(dir: string, name: string, bytes: Uint8Array): string {
	try {
		mkdirSync(dir, { mode: 0o700 });
	} catch (err) {
		if ((err as { code?: string }).code !== "EEXIST") throw err;
	}
	checkPrivateDir(dir);
	const hash = new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 16);
	const path = `${dir}/${name}-${hash}.so`;
	if (isOurCopy(path, bytes)) return path;
	const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
	const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
	try {
		for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off);
		closeSync(fd);
		renameSync(tmp, path);
	} catch (err) {
		try {
			unlinkSync(tmp);
		} catch {
			// already gone
		}
		throw err;
	}
	return path;
}

/** A regular file of ours, writable only by us, with exactly these bytes. */
function isOurCopy(path: string, bytes: Uint8Array): boolean {
	let st: Stats;
	try {
		st = lstatSync(path);
	} catch {
		return false;
	}
	if (!st.isFile() || st.uid !== (process.geteuid?.() ?? 0) || st.mode & 0o022) return false;
	if (st.size !== bytes.byteLength) return false;
	return Buffer.from(readFileSync(path)).equals(bytes);
}

function message(err: unknown): string {
	return err instanceof Error ? err.message : String(err);
}
