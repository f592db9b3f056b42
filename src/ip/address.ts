// IP and MAC address text <-> bytes, and socket addresses. Pure and a leaf (the equal of CNI's
// pkg/ip): every part of ctrnet that handles an address imports it, so it stays free of node:net
// (whose import weighs on the rootless forwarder's memory) and of everything else in src/.
import { AF_INET, AF_INET6 } from "../../ffi/constants";

export type Family = 4 | 6;

/** The kernel's address family (AF_INET, AF_INET6) of a Family. */
export const afOf = (f: Family): number => (f === 6 ? AF_INET6 : AF_INET);
/** The Family of a kernel address family: AF_INET6 is 6, anything else 4. */
export const familyOfAf = (af: number): Family => (af === AF_INET6 ? 6 : 4);

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const GROUP = /^[0-9a-fA-F]{1,4}$/;

function isV6(s: string): boolean {
	let text = s.replace(/%[^%]+$/, ""); // a zone index (fe80::1%eth0) is not part of the address
	const lastColon = text.lastIndexOf(":");
	if (lastColon >= 0 && text.includes(".", lastColon)) {
		// An IPv4 tail (::ffff:10.0.2.100) stands for two groups.
		if (!V4.test(text.slice(lastColon + 1))) return false;
		text = `${text.slice(0, lastColon + 1)}0:0`;
	}
	const halves = text.split("::");
	if (halves.length > 2) return false;
	const parts = halves.map((h) => (h === "" ? [] : h.split(":")));
	if (!parts.every((p) => p.every((g) => GROUP.test(g)))) return false;
	const n = parts.reduce((acc, p) => acc + p.length, 0);
	return halves.length === 2 ? n < 8 : n === 8;
}

/** 4 or 6 for an IP literal (as node's net.isIP), undefined otherwise. */
export function ipFamily(text: string): Family | undefined {
	if (V4.test(text)) return 4;
	if (text.includes(":") && isV6(text)) return 6;
	return undefined;
}

/** "10.0.0.1" -> 4 bytes, "fd00::1" (also with an embedded IPv4 tail) -> 16 bytes. */
export function parseIp(text: string): Uint8Array {
	const family = ipFamily(text);
	if (family === 4) return Uint8Array.from(text.split(".").map(Number));
	if (family !== 6) throw new Error(`invalid IP address ${JSON.stringify(text)}`);
	let s = text.replace(/%.*$/, ""); // a zone index is not part of the address bytes
	const v4 = s.match(/(\d+\.\d+\.\d+\.\d+)$/)?.[1];
	if (v4) {
		const b = parseIp(v4);
		s = `${s.slice(0, -v4.length)}${(((b[0] as number) << 8) | (b[1] as number)).toString(16)}:${(((b[2] as number) << 8) | (b[3] as number)).toString(16)}`;
	}
	const [head = "", tail] = s.split("::");
	const h = head ? head.split(":") : [];
	const t = tail ? tail.split(":") : [];
	const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
	const out = new Uint8Array(16);
	groups.forEach((g, i) => {
		const v = Number.parseInt(g, 16);
		out[i * 2] = v >> 8;
		out[i * 2 + 1] = v & 0xff;
	});
	return out;
}

/** struct sockaddr_in / sockaddr_in6 for an IP literal and a port (bind/connect arguments). */
export function sockaddr(ip: string, port: number): { family: number; addr: Uint8Array } {
	const v6 = ipFamily(ip) === 6;
	const addr = Buffer.alloc(v6 ? 28 : 16);
	addr.writeUInt16LE(v6 ? AF_INET6 : AF_INET, 0);
	addr.writeUInt16BE(port, 2);
	addr.set(parseIp(ip), v6 ? 8 : 4);
	return { family: v6 ? AF_INET6 : AF_INET, addr };
}

/** 4 or 16 bytes -> text; IPv6 in RFC 5952 form (longest zero run compressed, lower case). */
export function formatIp(b: Uint8Array): string {
	if (b.length === 4) return Array.from(b).join(".");
	if (b.length !== 16) throw new Error(`bad address length ${b.length}`);
	const g: number[] = [];
	for (let i = 0; i < 16; i += 2) g.push(((b[i] as number) << 8) | (b[i + 1] as number));
	let best = -1;
	let bestLen = 1; // a single zero group is not compressed (RFC 5952 4.2.2)
	for (let i = 0; i < 8; ) {
		if (g[i] !== 0) {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && g[j] === 0) j++;
		if (j - i > bestLen) {
			best = i;
			bestLen = j - i;
		}
		i = j;
	}
	const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
	if (best < 0) return hex(g);
	return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** "aa:bb:cc:dd:ee:ff" <-> 6 bytes. */
export function parseMac(text: string): Uint8Array {
	if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(text)) {
		throw new Error(`invalid MAC address ${JSON.stringify(text)}`);
	}
	return Uint8Array.from(text.split(":").map((h) => Number.parseInt(h, 16)));
}

export function formatMac(b: Uint8Array): string {
	return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
}
