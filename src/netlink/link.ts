// Links: list, look up, change state/MTU/MAC/master, create veth pairs and bridges, delete.
import { ERRNO } from "../../ffi/errno";
import { close, O_RDONLY, open } from "../../ffi/libc";
import { formatMac, parseMac } from "../ip/address";
import {
	type Attr,
	bytes,
	decodeAttrs,
	decodeIfinfomsg,
	encodeIfinfomsg,
	getStr,
	getU8,
	getU32,
	getU64,
	str,
	u32,
} from "./codec";
import {
	IFF_LOWER_UP,
	IFF_UP,
	IFLA_ADDRESS,
	IFLA_IFNAME,
	IFLA_INFO_DATA,
	IFLA_INFO_KIND,
	IFLA_INFO_SLAVE_KIND,
	IFLA_LINK,
	IFLA_LINKINFO,
	IFLA_MACVLAN_MODE,
	IFLA_MASTER,
	IFLA_MTU,
	IFLA_NET_NS_FD,
	IFLA_OPERSTATE,
	IFLA_STATS64,
	MACVLAN_MODES,
	NLM_F_CREATE,
	NLM_F_EXCL,
	OPERSTATES,
	RTM_DELLINK,
	RTM_GETLINK,
	RTM_NEWLINK,
	VETH_INFO_PEER,
} from "./constants";
import { NetlinkError } from "./error";
import type { NetlinkSocket, Reply } from "./socket";

/**
 * The counters of `ip -s link` (IFLA_STATS64). Numbers, not bigints: exact up to 2^53 bytes
 * (9 PB on one link), which interface counters do not reach in practice, and JSON-friendly.
 */
export interface LinkStats {
	rx_bytes: number;
	tx_bytes: number;
	rx_packets: number;
	tx_packets: number;
	rx_errors: number;
	tx_errors: number;
	rx_dropped: number;
	tx_dropped: number;
}

export interface Link {
	index: number;
	name: string;
	/** IFF_* bits as the kernel reports them. */
	flags: number;
	/** Administratively up (IFF_UP). */
	up: boolean;
	/** Carrier present (IFF_LOWER_UP). */
	lowerUp: boolean;
	mtu: number;
	/** "aa:bb:cc:dd:ee:ff"; "" for links without a hardware address. */
	mac: string;
	/** ifindex of the bridge (or bond) this link is attached to. */
	master?: number;
	/** IFLA_INFO_KIND: "veth", "bridge", …; undefined for physical devices and lo. */
	kind?: string;
	/** The kind of its master ("bridge") when attached. */
	slaveKind?: string;
	/** ifindex of the peer / parent (for a veth: its peer, possibly in another netns). */
	link?: number;
	/** RFC 2863 state as `ip link` prints it: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, … */
	operstate: string;
	stats64: LinkStats;
}

/** A link by name or by ifindex. */
export type LinkRef = string | number;

const ZERO_STATS: LinkStats = {
	rx_bytes: 0,
	tx_bytes: 0,
	rx_packets: 0,
	tx_packets: 0,
	rx_errors: 0,
	tx_errors: 0,
	rx_dropped: 0,
	tx_dropped: 0,
};

/** struct rtnl_link_stats64: rx_packets, tx_packets, rx_bytes, tx_bytes, rx/tx_errors, rx/tx_dropped. */
export function decodeStats64(b: Uint8Array | undefined): LinkStats {
	if (!b || b.byteLength < 64) return { ...ZERO_STATS };
	return {
		rx_packets: getU64(b, 0),
		tx_packets: getU64(b, 8),
		rx_bytes: getU64(b, 16),
		tx_bytes: getU64(b, 24),
		rx_errors: getU64(b, 32),
		tx_errors: getU64(b, 40),
		rx_dropped: getU64(b, 48),
		tx_dropped: getU64(b, 56),
	};
}

/** Decodes one RTM_NEWLINK payload. Pure. */
export function decodeLink(payload: Uint8Array): Link {
	const ifi = decodeIfinfomsg(payload);
	const a = decodeAttrs(ifi.attrs);
	const info = a.get(IFLA_LINKINFO);
	const li = info ? decodeAttrs(info) : undefined;
	const mac = a.get(IFLA_ADDRESS);
	const link: Link = {
		index: ifi.index,
		name: getStr(a.get(IFLA_IFNAME)) ?? "",
		flags: ifi.flags,
		up: (ifi.flags & IFF_UP) !== 0,
		lowerUp: (ifi.flags & IFF_LOWER_UP) !== 0,
		mtu: getU32(a.get(IFLA_MTU)) ?? 0,
		mac: mac ? formatMac(mac) : "",
		operstate: OPERSTATES[getU8(a.get(IFLA_OPERSTATE)) ?? 0] ?? "UNKNOWN",
		stats64: decodeStats64(a.get(IFLA_STATS64)),
	};
	const master = getU32(a.get(IFLA_MASTER));
	if (master) link.master = master;
	const kind = getStr(li?.get(IFLA_INFO_KIND));
	if (kind) link.kind = kind;
	const slaveKind = getStr(li?.get(IFLA_INFO_SLAVE_KIND));
	if (slaveKind) link.slaveKind = slaveKind;
	const peer = getU32(a.get(IFLA_LINK));
	if (peer && peer !== ifi.index) link.link = peer;
	return link;
}

export interface LinkFilter {
	/** Only the ports of this bridge (ifindex); the kernel filters, so the reply stays small. */
	master?: number;
}

export function listLinks(nl: NetlinkSocket, filter: LinkFilter = {}): Link[] {
	const attrs: Attr[] =
		filter.master === undefined ? [] : [{ type: IFLA_MASTER, value: u32(filter.master) }];
	return nl
		.dump("list links", RTM_GETLINK, encodeIfinfomsg(), attrs)
		.filter((r: Reply) => r.type === RTM_NEWLINK)
		.map((r) => decodeLink(r.payload))
		.filter((l) => filter.master === undefined || l.master === filter.master);
}

/** ifinfomsg + IFLA_IFNAME addressing one link, by index or by name. */
function target(ref: LinkRef, m: Parameters<typeof encodeIfinfomsg>[0] = {}) {
	if (typeof ref === "number") return { body: encodeIfinfomsg({ ...m, index: ref }), attrs: [] };
	return { body: encodeIfinfomsg(m), attrs: [{ type: IFLA_IFNAME, value: str(ref) }] };
}

/** One link; throws NetlinkError ENODEV when there is none by that name or index. */
export function getLink(nl: NetlinkSocket, ref: LinkRef): Link {
	const t = target(ref);
	const replies = nl.request(`get link ${ref}`, RTM_GETLINK, 0, t.body, t.attrs);
	const r = replies.find((x) => x.type === RTM_NEWLINK);
	if (!r) throw new NetlinkError(`get link ${ref}`, ERRNO.ENODEV, "no such link");
	return decodeLink(r.payload);
}

/** One link, or undefined when it does not exist. */
export function findLink(nl: NetlinkSocket, ref: LinkRef): Link | undefined {
	try {
		return getLink(nl, ref);
	} catch (e) {
		if (e instanceof NetlinkError && e.errno === ERRNO.ENODEV) return undefined;
		throw e;
	}
}

/** RTM_NEWLINK on an existing link (what `ip link set` sends). */
function setLink(
	nl: NetlinkSocket,
	op: string,
	ref: LinkRef,
	m: { flags?: number; change?: number },
	attrs: Attr[],
) {
	const t = target(ref, m);
	nl.request(`${op} ${ref}`, RTM_NEWLINK, 0, t.body, [...t.attrs, ...attrs]);
}

export function setLinkUp(nl: NetlinkSocket, ref: LinkRef): void {
	setLink(nl, "set link up", ref, { flags: IFF_UP, change: IFF_UP }, []);
}

export function setLinkDown(nl: NetlinkSocket, ref: LinkRef): void {
	setLink(nl, "set link down", ref, { flags: 0, change: IFF_UP }, []);
}

export function setMtu(nl: NetlinkSocket, ref: LinkRef, mtu: number): void {
	setLink(nl, `set mtu ${mtu} on`, ref, {}, [{ type: IFLA_MTU, value: u32(mtu) }]);
}

export function setMac(nl: NetlinkSocket, ref: LinkRef, mac: string): void {
	setLink(nl, `set mac ${mac} on`, ref, {}, [{ type: IFLA_ADDRESS, value: parseMac(mac) }]);
}

/** Attaches `ref` to a bridge (by name or index); `null` detaches it (IFLA_MASTER 0). */
export function setMaster(nl: NetlinkSocket, ref: LinkRef, bridge: LinkRef | null): void {
	const index =
		bridge === null ? 0 : typeof bridge === "number" ? bridge : getLink(nl, bridge).index;
	const op = bridge === null ? "detach" : `set master ${bridge} of`;
	setLink(nl, op, ref, {}, [{ type: IFLA_MASTER, value: u32(index) }]);
}

/** Moves a link into the netns of `netnsFd` (it disappears from this socket's namespace). */
export function setLinkNetns(nl: NetlinkSocket, ref: LinkRef, netnsFd: number): void {
	setLink(nl, "move to netns", ref, {}, [{ type: IFLA_NET_NS_FD, value: u32(netnsFd) }]);
}

export interface VethOptions {
	/** Put the peer straight into this netns (an open fd to an nsfs file). */
	peerNetnsFd?: number;
	/** Same, by path; opened and closed here. */
	peerNetnsPath?: string;
	/** MTU of both ends. */
	mtu?: number;
	mac?: string;
	peerMac?: string;
	/** Attach the local end to this bridge (ifindex) in the same request. */
	master?: number;
	/** Bring the local end up in the same request (the peer stays down). */
	up?: boolean;
}

/** What a new-link request can set besides its kind-specific data. */
export interface NewLinkOptions {
	mtu?: number;
	mac?: string;
	/** IFLA_INFO_DATA: the kind's own attributes. */
	data?: Attr[];
	/** IFLA_MASTER: the bridge to attach to. */
	master?: number;
	/** IFLA_LINK: the lower device (a macvlan's parent). */
	link?: number;
	/** IFLA_NET_NS_FD: create the link in that netns (the lower device stays where it is). */
	netnsFd?: number;
}

/** The attributes of a new-link request: name, optional MTU/MAC/…, and IFLA_LINKINFO. Pure. */
export function newLinkAttrs(name: string, kind: string, opts: NewLinkOptions = {}): Attr[] {
	const attrs: Attr[] = [{ type: IFLA_IFNAME, value: str(name) }];
	if (opts.mtu !== undefined) attrs.push({ type: IFLA_MTU, value: u32(opts.mtu) });
	if (opts.mac !== undefined) attrs.push({ type: IFLA_ADDRESS, value: parseMac(opts.mac) });
	if (opts.link !== undefined) attrs.push({ type: IFLA_LINK, value: u32(opts.link) });
	if (opts.master !== undefined) attrs.push({ type: IFLA_MASTER, value: u32(opts.master) });
	if (opts.netnsFd !== undefined) attrs.push({ type: IFLA_NET_NS_FD, value: u32(opts.netnsFd) });
	const info: Attr[] = [{ type: IFLA_INFO_KIND, value: bytes(kind) }];
	if (opts.data) info.push({ type: IFLA_INFO_DATA, value: opts.data });
	attrs.push({ type: IFLA_LINKINFO, value: info });
	return attrs;
}

/** The VETH_INFO_PEER attribute: an ifinfomsg followed by the peer's own attributes. Pure. */
export function vethPeerData(peerName: string, opts: VethOptions, netnsFd?: number): Attr[] {
	const peer: Attr[] = [{ type: IFLA_IFNAME, value: str(peerName) }];
	if (opts.mtu !== undefined) peer.push({ type: IFLA_MTU, value: u32(opts.mtu) });
	if (opts.peerMac !== undefined) peer.push({ type: IFLA_ADDRESS, value: parseMac(opts.peerMac) });
	if (netnsFd !== undefined) peer.push({ type: IFLA_NET_NS_FD, value: u32(netnsFd) });
	return [{ type: VETH_INFO_PEER, head: encodeIfinfomsg(), value: peer }];
}

/** The whole `ip link add NAME type veth peer PEER …` request. Pure (given the netns fd). */
export function vethRequest(name: string, peerName: string, opts: VethOptions, netnsFd?: number) {
	const { peerNetnsFd: _, peerNetnsPath: __, up, ...rest } = opts;
	return {
		body: encodeIfinfomsg(up ? { flags: IFF_UP, change: IFF_UP } : {}),
		attrs: newLinkAttrs(name, "veth", { ...rest, data: vethPeerData(peerName, opts, netnsFd) }),
	};
}

/** Creates a veth pair `name` <-> `peerName`; the peer may go straight into another netns. */
export function createVeth(
	nl: NetlinkSocket,
	name: string,
	peerName: string,
	opts: VethOptions = {},
): void {
	let fd = opts.peerNetnsFd;
	const opened = fd === undefined && opts.peerNetnsPath !== undefined;
	if (opened) fd = open(opts.peerNetnsPath as string, O_RDONLY);
	try {
		const r = vethRequest(name, peerName, opts, fd);
		nl.request(
			`create veth ${name} peer ${peerName}`,
			RTM_NEWLINK,
			NLM_F_CREATE | NLM_F_EXCL,
			r.body,
			r.attrs,
		);
	} finally {
		if (opened && fd !== undefined) close(fd);
	}
}

export function createBridge(
	nl: NetlinkSocket,
	name: string,
	opts: { mtu?: number; mac?: string } = {},
): void {
	nl.request(
		`create bridge ${name}`,
		RTM_NEWLINK,
		NLM_F_CREATE | NLM_F_EXCL,
		encodeIfinfomsg(),
		newLinkAttrs(name, "bridge", opts),
	);
}

export type MacvlanMode = keyof typeof MACVLAN_MODES;

export interface MacvlanOptions {
	/** ifindex of the parent (lower) device, in the socket's netns. */
	parent: number;
	/** Default "bridge" (what podman and the CNI plugin use). */
	mode?: MacvlanMode;
	mtu?: number;
	mac?: string;
	/** Create it straight in this netns (an open nsfs fd); the parent stays where it is. */
	netnsFd?: number;
}

/** The `ip link add NAME link PARENT type macvlan mode MODE [netns …]` request. Pure. */
export function macvlanRequest(name: string, opts: MacvlanOptions) {
	const mode = MACVLAN_MODES[opts.mode ?? "bridge"];
	return {
		body: encodeIfinfomsg(),
		attrs: newLinkAttrs(name, "macvlan", {
			mtu: opts.mtu,
			mac: opts.mac,
			link: opts.parent,
			netnsFd: opts.netnsFd,
			data: [{ type: IFLA_MACVLAN_MODE, value: u32(mode) }],
		}),
	};
}

export function createMacvlan(nl: NetlinkSocket, name: string, opts: MacvlanOptions): void {
	const r = macvlanRequest(name, opts);
	nl.request(`create macvlan ${name}`, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, r.body, r.attrs);
}

/** Deletes a link (for a veth, both ends go). */
export function deleteLink(nl: NetlinkSocket, ref: LinkRef): void {
	const t = target(ref);
	nl.request(`delete link ${ref}`, RTM_DELLINK, 0, t.body, t.attrs);
}
