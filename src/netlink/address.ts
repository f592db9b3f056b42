// Interface addresses (v4 and v6): add, list, delete — what `ip addr` does.

import { afOf, type Family, familyOfAf, formatIp, parseIp } from "../ip/address";
import { parseCidr } from "../ip/cidr";
import {
	type Attr,
	decodeAttrs,
	decodeIfaddrmsg,
	encodeIfaddrmsg,
	getStr,
	getU32,
	u32,
} from "./codec";
import {
	AF_UNSPEC,
	IFA_ADDRESS,
	IFA_BROADCAST,
	IFA_FLAGS,
	IFA_LABEL,
	IFA_LOCAL,
	NLM_F_CREATE,
	NLM_F_EXCL,
	RT_SCOPE_HOST,
	RT_SCOPE_LINK,
	RTM_DELADDR,
	RTM_GETADDR,
	RTM_NEWADDR,
	SCOPE_NAMES,
} from "./constants";
import { getLink, type LinkRef } from "./link";
import type { NetlinkSocket } from "./socket";

export interface Address {
	/** ifindex of the link that holds it. */
	index: number;
	family: Family;
	address: string;
	prefixLen: number;
	/** "global", "link", "host", … */
	scope: string;
	/** IFA_F_* bits (IFA_FLAGS when present, which carries the bits above 8). */
	flags: number;
	label?: string;
	/** For point-to-point v4 addresses: the peer (IFA_ADDRESS when it differs from IFA_LOCAL). */
	peer?: string;
}

/** Decodes one RTM_NEWADDR payload. Pure. */
export function decodeAddress(payload: Uint8Array): Address {
	const m = decodeIfaddrmsg(payload);
	const a = decodeAttrs(m.attrs);
	// IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on a ptp link (and the
	// same as IFA_LOCAL otherwise). IPv6 only sends IFA_ADDRESS.
	const local = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
	const addr = a.get(IFA_ADDRESS);
	const out: Address = {
		index: m.index,
		family: familyOfAf(m.family),
		address: local ? formatIp(local) : "",
		prefixLen: m.prefixLen,
		scope: SCOPE_NAMES[m.scope] ?? String(m.scope),
		flags: getU32(a.get(IFA_FLAGS)) ?? m.flags,
	};
	const label = getStr(a.get(IFA_LABEL));
	if (label) out.label = label;
	if (addr && local && formatIp(addr) !== out.address) out.peer = formatIp(addr);
	return out;
}

export interface AddressFilter {
	link?: LinkRef;
	family?: Family;
}

export function listAddresses(nl: NetlinkSocket, filter: AddressFilter = {}): Address[] {
	const af = filter.family ? afOf(filter.family) : AF_UNSPEC;
	const index = filter.link === undefined ? undefined : resolveIndex(nl, filter.link);
	// Filtering by ifindex in the kernel needs strict checking; filter here, it is cheap.
	return nl
		.dump("list addresses", RTM_GETADDR, encodeIfaddrmsg({ family: af, prefixLen: 0, index: 0 }))
		.filter((r) => r.type === RTM_NEWADDR)
		.map((r) => decodeAddress(r.payload))
		.filter((a) => index === undefined || a.index === index);
}

function resolveIndex(nl: NetlinkSocket, ref: LinkRef): number {
	return typeof ref === "number" ? ref : getLink(nl, ref).index;
}

export interface AddressOptions {
	/** Add the IPv4 broadcast address (`brd +`); default true. */
	broadcast?: boolean;
	/** IFA_F_* bits, e.g. IFA_F_NODAD (`ip addr add … nodad`). */
	flags?: number;
}

/** The request `ip addr add CIDR dev LINK` sends. Pure (given the ifindex). */
export function addressRequest(index: number, cidr: string, opts: AddressOptions = {}) {
	const c = parseCidr(cidr);
	const bytes = parseIp(c.address);
	// 127/8 and ::1 are host scope, like iproute2 picks them; fe80::/10 link; the rest global.
	const scope =
		(c.family === 4 && bytes[0] === 127) || (c.family === 6 && c.address === "::1")
			? RT_SCOPE_HOST
			: c.family === 6 && bytes[0] === 0xfe && ((bytes[1] as number) & 0xc0) === 0x80
				? RT_SCOPE_LINK
				: 0;
	const attrs: Attr[] = [
		{ type: IFA_LOCAL, value: bytes },
		{ type: IFA_ADDRESS, value: bytes },
	];
	if (c.family === 4 && opts.broadcast !== false && c.prefixLen < 31) {
		attrs.push({ type: IFA_BROADCAST, value: broadcastOf(bytes, c.prefixLen) });
	}
	// ifa_flags holds the low 8 bits; IFA_FLAGS the whole set (iproute2 sends both).
	const flags = opts.flags ?? 0;
	if (flags) attrs.push({ type: IFA_FLAGS, value: u32(flags) });
	const body = encodeIfaddrmsg({
		family: afOf(c.family),
		prefixLen: c.prefixLen,
		flags: flags & 0xff,
		scope,
		index,
	});
	return { body, attrs, cidr: `${c.address}/${c.prefixLen}` };
}

function broadcastOf(addr: Uint8Array, prefixLen: number): Uint8Array {
	const v = new DataView(addr.slice().buffer);
	const host = prefixLen === 0 ? 0xffffffff : (1 << (32 - prefixLen)) - 1;
	v.setUint32(0, (v.getUint32(0) | host) >>> 0);
	return new Uint8Array(v.buffer);
}

/** Adds "10.0.0.1/24" or "fd00::1/64" to a link (with the v4 broadcast, like `ip addr add … brd +`). */
export function addAddress(
	nl: NetlinkSocket,
	ref: LinkRef,
	cidr: string,
	opts: AddressOptions = {},
): void {
	const r = addressRequest(resolveIndex(nl, ref), cidr, opts);
	nl.request(
		`add address ${r.cidr} dev ${ref}`,
		RTM_NEWADDR,
		NLM_F_CREATE | NLM_F_EXCL,
		r.body,
		r.attrs,
	);
}

export function deleteAddress(nl: NetlinkSocket, ref: LinkRef, cidr: string): void {
	const r = addressRequest(resolveIndex(nl, ref), cidr, { broadcast: false });
	nl.request(`delete address ${r.cidr} dev ${ref}`, RTM_DELADDR, 0, r.body, r.attrs);
}
