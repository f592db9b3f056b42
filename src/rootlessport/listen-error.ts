// The one line a failed listen prints, worded as podman's rootlessport (Go's net.OpError text),
// so scripts and people that know podman's messages recognise them. Pure.

// Go's syscall.Errno strings for the errors a bind can give.
const ERRNO_TEXT: Record<string, string> = {
	EADDRINUSE: "address already in use",
	EACCES: "permission denied",
	EPERM: "operation not permitted",
	EADDRNOTAVAIL: "cannot assign requested address",
	EAFNOSUPPORT: "address family not supported by protocol",
	EINVAL: "invalid argument",
};

/** host:port as Go's net.JoinHostPort writes it: IPv6 literals in brackets. */
export function joinHostPort(ip: string, port: number): string {
	return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The error code (EADDRINUSE, …) of an error thrown by Bun.listen / Bun.udpSocket. */
export function errorCode(err: unknown): string {
	const code = (err as { code?: unknown } | null)?.code;
	return typeof code === "string" ? code : "";
}

/**
 * `listen tcp 0.0.0.0:80: bind: address already in use`; for EACCES below the unprivileged port
 * start, podman's advice about net.ipv4.ip_unprivileged_port_start in front of it.
 */
export function listenErrorLine(
	proto: "tcp" | "udp",
	ip: string,
	port: number,
	code: string,
	unprivilegedPortStart: number,
	fallback = "",
): string {
	const text = ERRNO_TEXT[code] ?? (fallback || code || "unknown error");
	const base = `listen ${proto} ${joinHostPort(ip, port)}: bind: ${text}`;
	if (code === "EACCES" && port < unprivilegedPortStart) {
		return (
			`cannot expose privileged port ${port}, you can add 'net.ipv4.ip_unprivileged_port_start=${port}' ` +
			`to /etc/sysctl.conf (currently ${unprivilegedPortStart}), or choose a larger port number ` +
			`(>= ${unprivilegedPortStart}): ${base}`
		);
	}
	return base;
}
