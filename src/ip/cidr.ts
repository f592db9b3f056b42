// CIDR arithmetic: an interface address with its prefix (10.0.0.5/24), subnets (host bits
// cleared), containment, overlap, the n-th address, and the choice of a free /24. Pure; addresses
// are handled as BigInt so IPv4 and IPv6 share one code path.
import { type Family, formatIp, ipFamily, parseIp } from "./address";

export interface Subnet {
	family: Family;
	/** The network address (host bits cleared). */
	base: bigint;
	prefixLen: number;
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

/** An IPv4 address with a prefix length (Go's net.ParseCIDR with an IPv4 address). */
export function isIPv4Cidr(text: string): boolean {
	try {
		return text.includes("/") && parseCidr(text).family === 4;
	} catch {
		return false;
	}
}

const bits = (f: Family) => (f === 4 ? 32 : 128);

function toBig(bytes: Uint8Array): bigint {
	let v = 0n;
	for (const b of bytes) v = (v << 8n) | BigInt(b);
	return v;
}

/** The address of `family` with numeric value `value` as text (parseAddress's inverse). */
export function formatAddress(family: Family, value: bigint): string {
	let v = value;
	const n = family === 4 ? 4 : 16;
	const out = new Uint8Array(n);
	for (let i = n - 1; i >= 0; i--) {
		out[i] = Number(v & 0xffn);
		v >>= 8n;
	}
	return formatIp(out);
}

const hostMask = (s: Pick<Subnet, "family" | "prefixLen">) =>
	(1n << BigInt(bits(s.family) - s.prefixLen)) - 1n;

/** "10.1.2.0/24" -> Subnet; host bits are cleared ("10.1.2.7/24" is 10.1.2.0/24). Throws on junk. */
export function parseSubnet(text: string): Subnet {
	const [addr = "", len, extra] = text.split("/");
	const family = ipFamily(addr);
	if (!family || len === undefined || extra !== undefined || !/^\d{1,3}$/.test(len)) {
		throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
	}
	const prefixLen = Number(len);
	if (prefixLen > bits(family)) throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
	const s = { family, prefixLen };
	return { ...s, base: toBig(parseIp(addr)) & ~hostMask(s) };
}

export function parseAddress(text: string): { family: Family; value: bigint } {
	const family = ipFamily(text);
	if (!family) throw new Error(`invalid IP address ${JSON.stringify(text)}`);
	return { family, value: toBig(parseIp(text)) };
}

export function formatSubnet(s: Subnet): string {
	return `${formatAddress(s.family, s.base)}/${s.prefixLen}`;
}

export function contains(s: Subnet, ip: string): boolean {
	const a = parseAddress(ip);
	return a.family === s.family && (a.value & ~hostMask(s)) === s.base;
}

/** Either contains the other's network address (podman's NetworkIntersect). */
export function overlaps(a: Subnet, b: Subnet): boolean {
	if (a.family !== b.family) return false;
	const inA = (b.base & ~hostMask(a)) === a.base;
	const inB = (a.base & ~hostMask(b)) === b.base;
	return inA || inB;
}

/** The n-th address of the subnet (1 = the first host, the usual gateway). */
export function nthAddress(s: Subnet, n: number): string {
	return formatAddress(s.family, s.base + BigInt(n));
}

/** The last address usable by a host: the one before broadcast in IPv4, the last in IPv6. */
export function lastHostAddress(s: Subnet): string {
	const last = s.base | hostMask(s);
	return formatAddress(s.family, s.family === 4 && s.prefixLen < 31 ? last - 1n : last);
}

/**
 * The first /24 from `start` upward (inside 10.0.0.0/8) that overlaps nothing in `taken`, or
 * undefined when the pool is exhausted.
 */
export function firstFreeSubnet(
	taken: readonly Subnet[],
	start = "10.89.0.0/24",
): Subnet | undefined {
	const first = parseSubnet(start);
	const end = parseSubnet("10.0.0.0/8");
	const step = 1n << BigInt(32 - first.prefixLen);
	for (let base = first.base; contains(end, formatAddress(4, base)); base += step) {
		const cand: Subnet = { family: 4, base, prefixLen: first.prefixLen };
		if (!taken.some((t) => overlaps(t, cand))) return cand;
	}
	return undefined;
}
