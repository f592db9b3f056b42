// struct sockaddr_in / sockaddr_in6 for an IP literal and a port. Pure.
import { ipVersion } from "./ip";

export const AF_INET = 2;
export const AF_INET6 = 10;

function ipv6Bytes(ip: string): number[] {
	// An embedded IPv4 tail becomes two groups, then "::" is expanded to the missing zeros.
	const text = (ip.split("%")[0] as string).replace(
		/(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
		(_m, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`,
	);
	const [l = "", r] = text.includes("::") ? text.split("::") : [text, undefined];
	const left = l ? l.split(":") : [];
	const right = r ? r.split(":") : [];
	const zeros = r === undefined ? [] : Array(8 - left.length - right.length).fill("0");
	return [...left, ...zeros, ...right].flatMap((g) => {
		const w = Number.parseInt(g, 16);
		return [w >> 8, w & 255];
	});
}

/** The sockaddr for `ip`:`port`, and its address family. */
export function sockaddr(ip: string, port: number): { family: number; addr: Uint8Array } {
	const v = ipVersion(ip);
	if (v === 4) {
		const b = Buffer.alloc(16);
		b.writeUInt16LE(AF_INET, 0);
		b.writeUInt16BE(port, 2);
		ip.split(".").forEach((o, i) => {
			b[4 + i] = Number(o);
		});
		return { family: AF_INET, addr: b };
	}
	if (v === 6) {
		const b = Buffer.alloc(28);
		b.writeUInt16LE(AF_INET6, 0);
		b.writeUInt16BE(port, 2);
		Buffer.from(ipv6Bytes(ip)).copy(b, 8);
		return { family: AF_INET6, addr: b };
	}
	throw new Error(`not an IP address: ${ip}`);
}
