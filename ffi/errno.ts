// Linux errno numbers (x86_64 / generic) and the typed error every failing libc call becomes.
// Pure: no bun:ffi here, so it can be imported (and unit-tested) without loading libc.

/** Numbers by name: `err.errno === ERRNO.ENOENT`. The one errno table; nothing redefines these. */
export const ERRNO = {
	EPERM: 1,
	ENOENT: 2,
	ESRCH: 3,
	EINTR: 4,
	EIO: 5,
	ENXIO: 6,
	E2BIG: 7,
	ENOEXEC: 8,
	EBADF: 9,
	ECHILD: 10,
	EAGAIN: 11,
	ENOMEM: 12,
	EACCES: 13,
	EFAULT: 14,
	EBUSY: 16,
	EEXIST: 17,
	EXDEV: 18,
	ENODEV: 19,
	ENOTDIR: 20,
	EISDIR: 21,
	EINVAL: 22,
	ENFILE: 23,
	EMFILE: 24,
	ENOTTY: 25,
	ENOSPC: 28,
	EROFS: 30,
	EPIPE: 32,
	ERANGE: 34,
	ENAMETOOLONG: 36,
	ENOSYS: 38,
	ENOTEMPTY: 39,
	ELOOP: 40,
	ENODATA: 61,
	EPROTO: 71,
	EBADMSG: 74,
	EOVERFLOW: 75,
	ERESTART: 85,
	ENOTSOCK: 88,
	EMSGSIZE: 90,
	EPROTONOSUPPORT: 93,
	EOPNOTSUPP: 95,
	EAFNOSUPPORT: 97,
	EADDRINUSE: 98,
	EADDRNOTAVAIL: 99,
	ENETDOWN: 100,
	ENETUNREACH: 101,
	ECONNABORTED: 103,
	ECONNRESET: 104,
	ENOBUFS: 105,
	EISCONN: 106,
	ENOTCONN: 107,
	ETIMEDOUT: 110,
	ECONNREFUSED: 111,
	EHOSTUNREACH: 113,
	EALREADY: 114,
	EINPROGRESS: 115,
} as const;
export type ErrnoName = keyof typeof ERRNO;

const NAMES: Record<number, string> = Object.fromEntries(
	Object.entries(ERRNO).map(([name, n]) => [n, name]),
);

export function errnoName(errno: number): string {
	return NAMES[errno] ?? `E${errno}`;
}

/** A failed system call: which operation, on what, and the errno by name. */
export class SysError extends Error {
	override readonly name = "SysError";
	readonly code: string;
	constructor(
		readonly op: string,
		readonly errno: number,
		readonly detail?: string,
	) {
		const code = errnoName(errno);
		super(`${op}${detail ? ` ${detail}` : ""}: ${code}`);
		this.code = code;
	}
}
