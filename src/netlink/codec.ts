// The rtnetlink wire format, as pure functions over bytes: nlmsghdr, the fixed headers of links
// (ifinfomsg), addresses (ifaddrmsg) and routes (rtmsg), and rtattr TLVs, nested or not, each
// padded to 4 bytes (NLA_ALIGNTO / NLMSG_ALIGNTO). Netlink uses host byte order; ctrnet targets
// little-endian Linux (x86_64, arm64), so every integer here is written little-endian.
import { NLA_F_NESTED, NLA_TYPE_MASK, NLM_F_CAPPED, NLMSGERR_ATTR_MSG } from "./constants";

export const NLMSG_HDRLEN = 16;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;

export const align4 = (n: number) => (n + 3) & ~3;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** One rtattr: raw bytes, or a list of attributes nested inside it. */
export interface Attr {
	type: number;
	value: Uint8Array | Attr[];
	/** Sets NLA_F_NESTED. iproute2 leaves it off for IFLA_LINKINFO and the kernel accepts both. */
	nestedFlag?: boolean;
	/**
	 * A fixed struct written before nested attributes (VETH_INFO_PEER holds an ifinfomsg, then
	 * the peer's attributes). Padded to 4 bytes. Only used when `value` is a list.
	 */
	head?: Uint8Array;
}

// ---- attribute value builders -------------------------------------------------------------

export function u8(v: number): Uint8Array {
	return Uint8Array.of(v);
}

export function u16(v: number): Uint8Array {
	const b = new Uint8Array(2);
	view(b).setUint16(0, v, true);
	return b;
}

export function u32(v: number): Uint8Array {
	const b = new Uint8Array(4);
	view(b).setUint32(0, v >>> 0, true);
	return b;
}

/** Network byte order: nf_tables' numbers, and ports and addresses in packet headers. */
export function be16(v: number): Uint8Array {
	const b = new Uint8Array(2);
	view(b).setUint16(0, v);
	return b;
}

export function be32(v: number): Uint8Array {
	const b = new Uint8Array(4);
	view(b).setUint32(0, v >>> 0);
	return b;
}

export function be64(v: bigint): Uint8Array {
	const b = new Uint8Array(8);
	view(b).setBigUint64(0, v);
	return b;
}

/** A NUL-terminated string, as the kernel expects for names and kinds. */
export function str(s: string): Uint8Array {
	return new TextEncoder().encode(`${s}\0`);
}

/** A string without the NUL, as iproute2 sends IFLA_INFO_KIND (the kernel takes both). */
export function bytes(s: string): Uint8Array {
	return new TextEncoder().encode(s);
}

export function concat(parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
	let off = 0;
	for (const p of parts) {
		out.set(p, off);
		off += p.byteLength;
	}
	return out;
}

// ---- encoding -----------------------------------------------------------------------------

function attrSize(a: Attr): number {
	if (a.value instanceof Uint8Array) return 4 + a.value.byteLength;
	return 4 + align4(a.head?.byteLength ?? 0) + attrsSize(a.value);
}

function attrsSize(attrs: Attr[]): number {
	return attrs.reduce((n, a) => n + align4(attrSize(a)), 0);
}

function writeAttrs(out: Uint8Array, off: number, attrs: Attr[]): number {
	const dv = view(out);
	for (const a of attrs) {
		const len = attrSize(a); // rta_len excludes the trailing padding
		dv.setUint16(off, len, true);
		dv.setUint16(off + 2, a.type | (a.nestedFlag ? NLA_F_NESTED : 0), true);
		if (a.value instanceof Uint8Array) out.set(a.value, off + 4);
		else {
			const head = a.head ?? new Uint8Array(0);
			out.set(head, off + 4);
			writeAttrs(out, off + 4 + align4(head.byteLength), a.value);
		}
		off += align4(len); // padding bytes stay zero
	}
	return off;
}

export function encodeAttrs(attrs: Attr[]): Uint8Array {
	const out = new Uint8Array(attrsSize(attrs));
	writeAttrs(out, 0, attrs);
	return out;
}

export interface Header {
	type: number;
	flags: number;
	seq: number;
	pid?: number;
}

/** A whole message: nlmsghdr + fixed family header (`body`) + attributes. */
export function encodeMessage(h: Header, body: Uint8Array, attrs: Attr[] = []): Uint8Array {
	const bodyLen = align4(body.byteLength);
	const len = NLMSG_HDRLEN + bodyLen + attrsSize(attrs);
	const out = new Uint8Array(len);
	const dv = view(out);
	dv.setUint32(0, len, true);
	dv.setUint16(4, h.type, true);
	dv.setUint16(6, h.flags, true);
	dv.setUint32(8, h.seq >>> 0, true);
	dv.setUint32(12, h.pid ?? 0, true);
	out.set(body, NLMSG_HDRLEN);
	writeAttrs(out, NLMSG_HDRLEN + bodyLen, attrs);
	return out;
}

/** Rewrites the sequence number of an encoded message in place (the socket numbers requests). */
export function setSeq(msg: Uint8Array, seq: number): void {
	view(msg).setUint32(8, seq >>> 0, true);
}

export interface IfInfoMsg {
	family?: number;
	type?: number;
	index?: number;
	flags?: number;
	change?: number;
}

export function encodeIfinfomsg(m: IfInfoMsg = {}): Uint8Array {
	const b = new Uint8Array(IFINFOMSG_LEN);
	const dv = view(b);
	dv.setUint8(0, m.family ?? 0);
	dv.setUint16(2, m.type ?? 0, true);
	dv.setInt32(4, m.index ?? 0, true);
	dv.setUint32(8, (m.flags ?? 0) >>> 0, true);
	dv.setUint32(12, (m.change ?? 0) >>> 0, true);
	return b;
}

export interface IfAddrMsg {
	family: number;
	prefixLen: number;
	flags?: number;
	scope?: number;
	index: number;
}

export function encodeIfaddrmsg(m: IfAddrMsg): Uint8Array {
	const b = new Uint8Array(IFADDRMSG_LEN);
	const dv = view(b);
	dv.setUint8(0, m.family);
	dv.setUint8(1, m.prefixLen);
	dv.setUint8(2, m.flags ?? 0);
	dv.setUint8(3, m.scope ?? 0);
	dv.setUint32(4, m.index, true);
	return b;
}

export interface RtMsg {
	family: number;
	dstLen?: number;
	srcLen?: number;
	tos?: number;
	table?: number;
	protocol?: number;
	scope?: number;
	type?: number;
	flags?: number;
}

export function encodeRtmsg(m: RtMsg): Uint8Array {
	const b = new Uint8Array(RTMSG_LEN);
	const dv = view(b);
	dv.setUint8(0, m.family);
	dv.setUint8(1, m.dstLen ?? 0);
	dv.setUint8(2, m.srcLen ?? 0);
	dv.setUint8(3, m.tos ?? 0);
	dv.setUint8(4, m.table ?? 0);
	dv.setUint8(5, m.protocol ?? 0);
	dv.setUint8(6, m.scope ?? 0);
	dv.setUint8(7, m.type ?? 0);
	dv.setUint32(8, m.flags ?? 0, true);
	return b;
}

// ---- decoding -----------------------------------------------------------------------------

export interface Message {
	type: number;
	flags: number;
	seq: number;
	pid: number;
	/** Everything after nlmsghdr (a view into the receive buffer: copy what you keep). */
	payload: Uint8Array;
}

/** Splits a datagram into messages; stops at a truncated or malformed header. */
export function decodeMessages(buf: Uint8Array): Message[] {
	const out: Message[] = [];
	const dv = view(buf);
	let off = 0;
	while (off + NLMSG_HDRLEN <= buf.byteLength) {
		const len = dv.getUint32(off, true);
		if (len < NLMSG_HDRLEN || off + len > buf.byteLength) break;
		out.push({
			type: dv.getUint16(off + 4, true),
			flags: dv.getUint16(off + 6, true),
			seq: dv.getUint32(off + 8, true),
			pid: dv.getUint32(off + 12, true),
			payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
		});
		off += align4(len);
	}
	return out;
}

/** Attributes by type (flags masked off); a repeated type keeps the last one. */
export function decodeAttrs(buf: Uint8Array): Map<number, Uint8Array> {
	const out = new Map<number, Uint8Array>();
	for (const [type, value] of decodeAttrList(buf)) out.set(type, value);
	return out;
}

/** Attributes in wire order, repeats kept. */
export function decodeAttrList(buf: Uint8Array): [number, Uint8Array][] {
	const out: [number, Uint8Array][] = [];
	const dv = view(buf);
	let off = 0;
	while (off + 4 <= buf.byteLength) {
		const len = dv.getUint16(off, true);
		if (len < 4 || off + len > buf.byteLength) break;
		out.push([dv.getUint16(off + 2, true) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len)]);
		off += align4(len);
	}
	return out;
}

export const getU8 = (b: Uint8Array | undefined) => (b && b.byteLength >= 1 ? b[0] : undefined);
export const getU16 = (b: Uint8Array | undefined) =>
	b && b.byteLength >= 2 ? view(b).getUint16(0, true) : undefined;
export const getU32 = (b: Uint8Array | undefined) =>
	b && b.byteLength >= 4 ? view(b).getUint32(0, true) : undefined;
export const getI32 = (b: Uint8Array | undefined) =>
	b && b.byteLength >= 4 ? view(b).getInt32(0, true) : undefined;

/** A NUL-terminated (or unterminated) string attribute. */
export function getStr(b: Uint8Array | undefined): string | undefined {
	if (!b) return undefined;
	const end = b.indexOf(0);
	return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/**
 * A u64 as a JS number. Exact below 2^53 (9 PB of traffic on one link), which interface
 * counters do not reach in practice; a number keeps the JSON output plain.
 */
export function getU64(b: Uint8Array, off = 0): number {
	const dv = view(b);
	return dv.getUint32(off + 4, true) * 2 ** 32 + dv.getUint32(off, true);
}

export function decodeIfinfomsg(p: Uint8Array): Required<IfInfoMsg> & { attrs: Uint8Array } {
	const dv = view(p);
	return {
		family: dv.getUint8(0),
		type: dv.getUint16(2, true),
		index: dv.getInt32(4, true),
		flags: dv.getUint32(8, true),
		change: dv.getUint32(12, true),
		attrs: p.subarray(IFINFOMSG_LEN),
	};
}

export function decodeIfaddrmsg(p: Uint8Array): Required<IfAddrMsg> & { attrs: Uint8Array } {
	const dv = view(p);
	return {
		family: dv.getUint8(0),
		prefixLen: dv.getUint8(1),
		flags: dv.getUint8(2),
		scope: dv.getUint8(3),
		index: dv.getUint32(4, true),
		attrs: p.subarray(IFADDRMSG_LEN),
	};
}

export function decodeRtmsg(p: Uint8Array): Required<RtMsg> & { attrs: Uint8Array } {
	const dv = view(p);
	return {
		family: dv.getUint8(0),
		dstLen: dv.getUint8(1),
		srcLen: dv.getUint8(2),
		tos: dv.getUint8(3),
		table: dv.getUint8(4),
		protocol: dv.getUint8(5),
		scope: dv.getUint8(6),
		type: dv.getUint8(7),
		flags: dv.getUint32(8, true),
		attrs: p.subarray(RTMSG_LEN),
	};
}

/**
 * An NLMSG_ERROR payload: `int error` (0 = ack, else -errno), the request's header (only the
 * header when NLM_F_CAPPED, else the whole request), then extended-ack TLVs when the socket
 * asked for them (NETLINK_EXT_ACK); NLMSGERR_ATTR_MSG is the kernel's human-readable text.
 */
export function decodeError(
	payload: Uint8Array,
	flags: number,
): { errno: number; message?: string } {
	const dv = view(payload);
	const error = -dv.getInt32(0, true) | 0; // the kernel sends -errno; | 0 turns -0 into 0
	if (payload.byteLength < 4 + NLMSG_HDRLEN) return { errno: error };
	const origLen = dv.getUint32(4, true);
	const tlvAt = 4 + (flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(origLen));
	if (tlvAt >= payload.byteLength) return { errno: error };
	const message = getStr(decodeAttrs(payload.subarray(tlvAt)).get(NLMSGERR_ATTR_MSG));
	return message ? { errno: error, message } : { errno: error };
}
