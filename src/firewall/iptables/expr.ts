// iptables rules as nf_tables expressions, exactly as iptables-nft 1.8.9 writes them, so that
// `iptables -S` (and every other iptables user of the table) reads ours as its own: native
// expressions where iptables-nft uses them (addresses, interfaces, protocol, ports, mark match,
// verdicts) and xt matches/targets (comment, conntrack, addrtype, MASQUERADE, MARK, DNAT) where it
// does. A form iptables-nft cannot parse back (nft's own `masquerade`, `ct state`, `fib`) would
// make the whole table "incompatible" for every iptables user of it. Pure: data in, attributes out.
// Numbers: <linux/netfilter/nf_tables.h>, the xt structs of <linux/netfilter/xt_*.h>.
import { type Family, parseIp } from "../../ip/address";
import { parseCidr } from "../../ip/cidr";
import {
	type Attr,
	be16,
	be32,
	decodeAttrList,
	encodeAttrs,
	getStr,
	str,
	u32,
} from "../../netlink/codec";

export type Expr = Attr;

/** One NFTA_LIST_ELEM: NFTA_EXPR_NAME and NFTA_EXPR_DATA. */
function expr(name: string, data: Attr[]): Expr {
	return {
		type: 1,
		nestedFlag: true,
		value: [
			{ type: 1, value: str(name) },
			{ type: 2, nestedFlag: true, value: data },
		],
	};
}

const REG_VERDICT = 0;
const REG_1 = 1;
const PAYLOAD_NETWORK = 1;
const PAYLOAD_TRANSPORT = 2;
const CMP_EQ = 0;
const CMP_NEQ = 1;
const META_MARK = 3;
const META_IIFNAME = 6;
const META_OIFNAME = 7;
const META_L4PROTO = 16;
const NF_DROP = 0;
const NF_ACCEPT = 1;
const NFT_JUMP = -3;

const value = (v: Uint8Array): Attr[] => [{ type: 1, value: v }];

function payload(base: number, offset: number, len: number): Expr {
	return expr("payload", [
		{ type: 1, value: be32(REG_1) },
		{ type: 2, value: be32(base) },
		{ type: 3, value: be32(offset) },
		{ type: 4, value: be32(len) },
	]);
}

function cmp(op: number, data: Uint8Array): Expr {
	return expr("cmp", [
		{ type: 1, value: be32(REG_1) },
		{ type: 2, value: be32(op) },
		{ type: 3, nestedFlag: true, value: value(data) },
	]);
}

function bitwise(mask: Uint8Array): Expr {
	return expr("bitwise", [
		{ type: 1, value: be32(REG_1) },
		{ type: 2, value: be32(REG_1) },
		{ type: 3, value: be32(mask.byteLength) },
		{ type: 4, nestedFlag: true, value: value(mask) },
		{ type: 5, nestedFlag: true, value: value(new Uint8Array(mask.byteLength)) },
	]);
}

function meta(key: number): Expr {
	return expr("meta", [
		{ type: 1, value: be32(REG_1) },
		{ type: 2, value: be32(key) },
	]);
}

/** `-s`/`-d CIDR` (`!` with `invert`): iptables-nft loads only the prefix's bytes when it can. */
export function addr(family: Family, which: "src" | "dst", cidr: string, invert = false): Expr[] {
	const { address, prefixLen } = parseCidr(cidr);
	const bytes = parseIp(address);
	const offset = family === 4 ? (which === "src" ? 12 : 16) : which === "src" ? 8 : 24;
	const mask = new Uint8Array(bytes.byteLength);
	for (let i = 0; i < mask.byteLength; i++) {
		const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
		mask[i] = (0xff << (8 - bits)) & 0xff;
	}
	const data = bytes.map((b, i) => b & (mask[i] as number));
	const op = invert ? CMP_NEQ : CMP_EQ;
	if (prefixLen % 8 === 0) {
		const len = prefixLen / 8;
		return [payload(PAYLOAD_NETWORK, offset, len), cmp(op, data.subarray(0, len))];
	}
	return [payload(PAYLOAD_NETWORK, offset, bytes.byteLength), bitwise(mask), cmp(op, data)];
}

/** `-i`/`-o NAME` (`!` with `invert`): the name and its NUL. */
export function iface(which: "in" | "out", name: string, invert = false): Expr[] {
	return [
		meta(which === "in" ? META_IIFNAME : META_OIFNAME),
		cmp(invert ? CMP_NEQ : CMP_EQ, str(name)),
	];
}

/** `-p tcp|udp`. */
export function proto(p: "tcp" | "udp"): Expr[] {
	return [meta(META_L4PROTO), cmp(CMP_EQ, Uint8Array.of(p === "tcp" ? 6 : 17))];
}

/** `-m tcp|udp --dport FROM[:TO]` (after `proto`). */
export function dport(from: number, to = from): Expr[] {
	const load = payload(PAYLOAD_TRANSPORT, 2, 2);
	if (from === to) return [load, cmp(CMP_EQ, be16(from))];
	return [
		load,
		expr("range", [
			{ type: 1, value: be32(REG_1) },
			{ type: 2, value: be32(0) }, // NFT_RANGE_EQ
			{ type: 3, nestedFlag: true, value: value(be16(from)) },
			{ type: 4, nestedFlag: true, value: value(be16(to)) },
		]),
	];
}

/** `-m mark --mark V/M`: the mark is host byte order (u32: little-endian, as this host). */
export function markMatch(v: number, mask: number): Expr[] {
	return [meta(META_MARK), bitwise(u32(mask)), cmp(CMP_EQ, u32(v))];
}

export function counter(): Expr {
	return expr("counter", [
		{ type: 1, value: new Uint8Array(8) },
		{ type: 2, value: new Uint8Array(8) },
	]);
}

function verdict(code: number, chain?: string): Expr {
	const v: Attr[] = [{ type: 1, value: be32(code) }];
	if (chain) v.push({ type: 2, value: str(chain) });
	return expr("immediate", [
		{ type: 1, value: be32(REG_VERDICT) },
		{ type: 2, nestedFlag: true, value: [{ type: 2, nestedFlag: true, value: v }] },
	]);
}

export const accept = () => verdict(NF_ACCEPT);
export const drop = () => verdict(NF_DROP);
export const jump = (chain: string) => verdict(NFT_JUMP, chain);

function xt(kind: "match" | "target", name: string, rev: number, info: Uint8Array): Expr {
	return expr(kind, [
		{ type: 1, value: str(name) },
		{ type: 2, value: be32(rev) },
		{ type: 3, value: info },
	]);
}

/** `-m comment --comment TEXT` (struct xt_comment_info: char[256]). */
export function comment(text: string): Expr {
	const info = new Uint8Array(256);
	info.set(new TextEncoder().encode(text).subarray(0, 255));
	return xt("match", "comment", 0, info);
}

/** `-m conntrack --ctstate RELATED,ESTABLISHED` (struct xt_conntrack_mtinfo3, 168 bytes aligned). */
export function ctstateRelatedEstablished(): Expr {
	const info = new Uint8Array(168);
	const dv = new DataView(info.buffer);
	dv.setUint16(146, 1, true); // match_flags: XT_CONNTRACK_STATE
	// state_mask: XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED = 0) | …(IP_CT_RELATED = 1)
	dv.setUint16(150, (1 << 1) | (1 << 2), true);
	return xt("match", "conntrack", 3, info);
}

/** `-m addrtype --dst-type LOCAL` (struct xt_addrtype_info_v1). */
export function dstTypeLocal(): Expr {
	const info = new Uint8Array(8);
	new DataView(info.buffer).setUint16(2, 1 << 2, true); // dest: XT_ADDRTYPE_LOCAL (1 << RTN_LOCAL)
	return xt("match", "addrtype", 1, info);
}

/** `-j MASQUERADE`: IPv4's nf_nat_ipv4_multi_range_compat (one empty range), IPv6's nf_nat_range. */
export function masquerade(family: Family): Expr {
	if (family === 6) return xt("target", "MASQUERADE", 0, new Uint8Array(40));
	const info = new Uint8Array(24);
	new DataView(info.buffer).setUint32(0, 1, true); // rangesize
	return xt("target", "MASQUERADE", 0, info);
}

/** `-j MARK --set-xmark V/M` (struct xt_mark_tginfo2). */
export function setXmark(v: number, mask: number): Expr {
	const info = new Uint8Array(8);
	info.set(u32(v), 0);
	info.set(u32(mask), 4);
	return xt("target", "MARK", 2, info);
}

/**
 * `-j DNAT --to-destination IP:PORT[-PORT2][/BASE]` (struct nf_nat_range2): ports FROM-TO of
 * the container, `base` the first host port when a range maps onto a range.
 */
export function dnat(ip: string, from: number, to = from, base?: number): Expr {
	const info = new Uint8Array(48);
	const dv = new DataView(info.buffer);
	const MAP_IPS = 1;
	const PROTO_SPECIFIED = 2;
	const PROTO_OFFSET = 0x20; // 1 << 5 (1 << 4 is PROTO_RANDOM_FULLY)
	dv.setUint32(0, MAP_IPS | PROTO_SPECIFIED | (base !== undefined ? PROTO_OFFSET : 0), true);
	const a = parseIp(ip);
	info.set(a, 4); // min_addr
	info.set(a, 20); // max_addr
	info.set(be16(from), 36); // min_proto
	info.set(be16(to), 38); // max_proto
	if (base !== undefined) info.set(be16(base), 40); // base_proto
	return xt("target", "DNAT", 2, info);
}

// ---- comparing rules -------------------------------------------------------------------------

/** The attributes each expression is compared by: what we send (the kernel dumps more). */
const COMPARED: Record<string, number[]> = {
	payload: [1, 2, 3, 4],
	cmp: [1, 2, 3],
	bitwise: [1, 2, 3, 4, 5],
	range: [1, 2, 3, 4],
	meta: [1, 2],
	immediate: [1, 2],
	match: [1, 2, 3],
	target: [1, 2, 3],
};
/** Attributes holding NFTA_DATA_* (a value, or a verdict: code and chain). */
const DATA: Record<string, number[]> = { cmp: [3], bitwise: [4, 5], range: [3, 4], immediate: [2] };

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function dataText(b: Uint8Array): string {
	return decodeAttrList(b)
		.map(([t, v]) =>
			t === 2 // NFTA_DATA_VERDICT
				? `v{${decodeAttrList(v)
						.map(([k, w]) => `${k}=${k === 2 ? getStr(w) : hex(w)}`)
						.join(",")}}`
				: `${t}=${hex(v)}`,
		)
		.join(",");
}

/**
 * A rule's expressions (NFTA_RULE_EXPRESSIONS' payload) as text that is equal for equal rules:
 * counters left out (their values change), and only the attributes that we write compared.
 */
export function fingerprint(expressions: Uint8Array): string {
	const parts: string[] = [];
	for (const [, elem] of decodeAttrList(expressions)) {
		const e = new Map(decodeAttrList(elem));
		const name = getStr(e.get(1)) ?? "";
		if (name === "counter") continue;
		const attrs = decodeAttrList(e.get(2) ?? new Uint8Array())
			.filter(([t]) => COMPARED[name]?.includes(t))
			.sort(([a], [b]) => a - b) // the kernel dumps some in another order (meta: key first)
			.map(([t, v]) => `${t}=${DATA[name]?.includes(t) ? `[${dataText(v)}]` : hex(v)}`);
		parts.push(`${name}(${attrs.join(",")})`);
	}
	return parts.join(" ");
}

/** fingerprint() of expressions we are about to write. */
export function fingerprintOf(exprs: Expr[]): string {
	return fingerprint(encodeAttrs(exprs));
}

/**
 * Byte strings that a rule's kernel dump holds verbatim when it equals `exprs` (compared values,
 * xt infos, jump targets): a cheap test that rules out most other rules before fingerprint(),
 * which decodes every expression. A host's DNAT chains hold a few rules per published port.
 */
export function needlesOf(exprs: Expr[]): Uint8Array[] {
	const out: Uint8Array[] = [];
	const leaves = (attrs: Attr[]) => {
		for (const a of attrs) {
			if (Array.isArray(a.value)) leaves(a.value);
			else if (a.value.byteLength >= 2) out.push(a.value);
		}
	};
	for (const e of exprs) {
		const [name, data] = e.value as Attr[];
		const kind = getStr(name?.value as Uint8Array);
		if (kind === "counter" || !data || !Array.isArray(data.value)) continue;
		// Registers, bases, offsets, lengths are the same in most rules: only values count.
		for (const a of data.value) {
			if (Array.isArray(a.value)) leaves(a.value);
			else if ((kind === "match" || kind === "target") && a.type === 3) out.push(a.value);
		}
	}
	return out;
}
