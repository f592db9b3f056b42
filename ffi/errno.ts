// Linux errno numbers (x86_64 / generic) and the typed error every failing libc call becomes.
// Pure: no bun:ffi here, so it can be imported (and unit-tested) without loading libc.

const NAMES: Record<number, string> = {
	1: "EPERM",
	2: "ENOENT",
	3: "ESRCH",
	4: "EINTR",
	5: "EIO",
	6: "ENXIO",
	7: "E2BIG",
	8: "ENOEXEC",
	9: "EBADF",
	10: "ECHILD",
	11: "EAGAIN",
	12: "ENOMEM",
	13: "EACCES",
	14: "EFAULT",
	16: "EBUSY",
	17: "EEXIST",
	18: "EXDEV",
	19: "ENODEV",
	20: "ENOTDIR",
	21: "EISDIR",
	22: "EINVAL",
	23: "ENFILE",
	24: "EMFILE",
	25: "ENOTTY",
	28: "ENOSPC",
	30: "EROFS",
	32: "EPIPE",
	34: "ERANGE",
	36: "ENAMETOOLONG",
	38: "ENOSYS",
	39: "ENOTEMPTY",
	40: "ELOOP",
	61: "ENODATA",
	71: "EPROTO",
	74: "EBADMSG",
	75: "EOVERFLOW",
	88: "ENOTSOCK",
	90: "EMSGSIZE",
	93: "EPROTONOSUPPORT",
	95: "EOPNOTSUPP",
	97: "EAFNOSUPPORT",
	98: "EADDRINUSE",
	99: "EADDRNOTAVAIL",
	100: "ENETDOWN",
	101: "ENETUNREACH",
	103: "ECONNABORTED",
	104: "ECONNRESET",
	105: "ENOBUFS",
	106: "EISCONN",
	107: "ENOTCONN",
	110: "ETIMEDOUT",
	111: "ECONNREFUSED",
	113: "EHOSTUNREACH",
	114: "EALREADY",
	115: "EINPROGRESS",
};

/** Numbers by name, for code that wants to compare (`err.errno === ERRNO.ENOENT`). */
export const ERRNO = Object.freeze(
	Object.fromEntries(Object.entries(NAMES).map(([n, name]) => [name, Number(n)])),
) as Readonly<Record<string, number>>;

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
