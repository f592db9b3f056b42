// Files ctrnet writes, written so that nobody else can redirect them: every file is created new
// (O_CREAT|O_EXCL|O_NOFOLLOW, so a planted symlink or file makes the open fail instead of being
// followed), inside a directory opened once and then used by fd (openat/renameat), and replaced in
// one rename (readers never see half a file; a kill -9 leaves the old file or the new one, and at
// worst a temp file with a name no reader picks up).
import {
	closeSync,
	fchmodSync,
	fchownSync,
	fstatSync,
	fsyncSync,
	readFileSync,
	writeSync,
} from "node:fs";
import { basename, dirname } from "node:path";
import { ERRNO, SysError } from "../../ffi/errno";
import {
	close,
	linkat,
	O_CREAT,
	O_DIRECTORY,
	O_EXCL,
	O_NOFOLLOW,
	O_RDONLY,
	O_RDWR,
	O_WRONLY,
	open,
	openat,
	renameat,
	unlinkat,
} from "../../ffi/libc";
import { UsageError } from "../errors";
import { randomHex } from "../random";

/** Runs fn with an fd of `dir` opened without following a final symlink; closes it after. */
export function withDir<T>(dir: string, fn: (dirFd: number) => T): T {
	let fd: number;
	try {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	} catch (e) {
		if (e instanceof SysError && (e.errno === ERRNO.ELOOP || e.errno === ERRNO.ENOTDIR))
			throw new UsageError(`${dir} is not a directory (a symlink is not followed)`);
		throw e;
	}
	try {
		return fn(fd);
	} finally {
		close(fd);
	}
}

/** A regular file in `dirFd`, read without following a symlink; its text and owner. */
export function readAt(
	dirFd: number,
	name: string,
	what = name,
): { text: string; mode: number; uid: number; gid: number } {
	let fd: number;
	try {
		fd = openat(dirFd, name, O_RDONLY | O_NOFOLLOW);
	} catch (e) {
		if (e instanceof SysError && e.errno === ERRNO.ELOOP)
			throw new UsageError(`${what} is a symlink: refusing to follow it`);
		throw e;
	}
	try {
		const st = fstatSync(fd);
		if (!st.isFile()) throw new UsageError(`${what} is not a regular file`);
		return { text: readFileSync(fd, "utf8"), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
	} finally {
		closeSync(fd);
	}
}

/** A temp name in the target's dir: hidden, never a config name (*.conf*, *.json), and short
 * (the target's own name may already take the whole NAME_MAX). */
function tempName(): string {
	return `.ctrnet-${randomHex(8)}.tmp`;
}

export interface WriteOptions {
	mode: number;
	/** Give the file this owner (root rewriting a file another user owns keeps it theirs). */
	owner?: { uid: number; gid: number };
	/**
	 * fsync before the rename (default). Files that only need to survive a kill -9 of ctrnet, not
	 * a power cut, skip it: the rename alone is atomic for every other process.
	 */
	durable?: boolean;
}

/**
 * `text` in a new temp file in `dirFd`, closed, with `opts`' owner and mode and fsynced unless
 * `durable` is false; returns its name. On failure the temp file is gone again.
 */
function writeTemp(dirFd: number, text: string, opts: WriteOptions): string {
	const tmp = tempName();
	const fd = openat(dirFd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, opts.mode);
	try {
		try {
			const buf = Buffer.from(text);
			let off = 0;
			while (off < buf.length) off += writeSync(fd, buf, off);
			if (opts.owner) fchownSync(fd, opts.owner.uid, opts.owner.gid);
			fchmodSync(fd, opts.mode); // the umask may have taken bits off
			if (opts.durable !== false) fsyncSync(fd);
		} finally {
			closeSync(fd);
		}
	} catch (e) {
		unlinkat(dirFd, tmp);
		throw e;
	}
	return tmp;
}

/** Replaces `name` in `dirFd` with `text`: a new temp file, fsync, one rename. */
export function writeAtomicAt(dirFd: number, name: string, text: string, opts: WriteOptions): void {
	const tmp = writeTemp(dirFd, text, opts);
	try {
		renameat(dirFd, tmp, name);
	} catch (e) {
		unlinkat(dirFd, tmp);
		throw e;
	}
}

/** writeAtomicAt for a path: its directory opened without following a final symlink. */
export function writeFileAtomic(path: string, text: string, opts: WriteOptions): void {
	withDir(dirname(path), (dirFd) => writeAtomicAt(dirFd, basename(path), text, opts));
}

/**
 * A new file that did not exist (a log, a lock), opened read-write. An existing file or symlink
 * at `path` — someone else's plant, or a leftover — makes it fail rather than be truncated or
 * followed; pass `replace` to unlink a leftover first (the unlink removes a symlink, not its target).
 */
export function createExclusive(path: string, mode: number, replace = false): number {
	const dir = dirname(path);
	const name = basename(path);
	return withDir(dir, (dirFd) => {
		if (replace) unlinkat(dirFd, name);
		try {
			return openat(dirFd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
		} catch (e) {
			if (e instanceof SysError && e.errno === ERRNO.EEXIST)
				throw new UsageError(
					`${path} already exists: refusing to reuse a file ctrnet did not create`,
				);
			throw e;
		}
	});
}

const NAME_MAX = 255;

/**
 * `name` when it fits in one directory entry (NAME_MAX bytes), else a prefix of it and a hash of
 * the whole: IDs and network names may each be 253 characters, and a file named after both (the
 * CNI cache's `<net>-<id>-<if>`) must still be creatable and found again.
 */
export function fileNameFor(name: string): string {
	if (Buffer.byteLength(name) <= NAME_MAX) return name;
	const hash = new Bun.CryptoHasher("sha256").update(name).digest("hex").slice(0, 40);
	return `${name.slice(0, 200)}-${hash}`;
}

/**
 * Creates `path` with all of `text` in it, or returns false when it exists: the content is written
 * to a temp file first and linked into place (link(2) fails on an existing name), so the name is
 * claimed exclusively and never seen empty or half-written, even after a kill -9.
 */
export function createFileAtomic(path: string, text: string, mode: number): boolean {
	return withDir(dirname(path), (dirFd) => {
		const tmp = writeTemp(dirFd, text, { mode });
		try {
			linkat(dirFd, tmp, basename(path));
			return true;
		} catch (e) {
			if (e instanceof SysError && e.errno === ERRNO.EEXIST) return false;
			throw e;
		} finally {
			unlinkat(dirFd, tmp);
		}
	});
}
