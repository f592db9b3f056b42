// IP address text <-> bytes, and CIDR parsing. Pure. node:net validates the text forms; the
// conversion itself is small enough that a dependency would cost more than it saves.
import { isIPv4, isIPv6 } from "node:net";

export type Family = 4 | 6;

export function ipFamily(text: string): Family | undefined {
	if (isIPv4(text)) return 4;
	if (isIPv6(text)) return 6;
	return undefined;
}

/** "10.0.0.1" -> 4 bytes, "fd00::1" (also with an embedded IPv4 tail) -> 16 bytes. */
export function parseIp(text: string): Uint8Array {
	if (isIPv4(text)) return Uint8Array.from(text.split(".").map(Number));
	if (!isIPv6(text)) throw new Error(`invalid IP address ${JSON.stringify(text)}`);
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

export interface Cidr {
	family: Family;
	address: string;
	prefixLen: number;
}

/** "10.0.0.1/24" -> {4, "10.0.0.1", 24}; a bare address gets the full-length prefix. */
export function parseCidr(text: string): Cidr {
	const [addr = "", len, extra] = text.split("/");
	const family = ipFamily(addr);
	const max = family === 4 ? 32 : 128;
	const prefixLen = len === undefined ? max : Number(len);
	if (
		!family ||
		extra !== undefined ||
		(len !== undefined && !/^\d{1,3}$/.test(len)) ||
		prefixLen > max
	) {
		throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
	}
	return { family, address: formatIp(parseIp(addr)), prefixLen };
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
