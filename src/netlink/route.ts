// Routes (v4 and v6, default route included): add, list, delete — what `ip route` does.

import { afOf, type Family, familyOfAf, formatIp, ipFamily, parseIp } from "../ip/address";
import { parseCidr } from "../ip/cidr";
import { type Attr, decodeAttrs, decodeRtmsg, encodeRtmsg, getU32, u32 } from "./codec";
import {
	AF_UNSPEC,
	NLM_F_CREATE,
	NLM_F_EXCL,
	RT_SCOPE_LINK,
	RT_SCOPE_NOWHERE,
	RT_SCOPE_UNIVERSE,
	RT_TABLE_MAIN,
	RTA_DST,
	RTA_GATEWAY,
	RTA_OIF,
	RTA_PREFSRC,
	RTA_PRIORITY,
	RTA_TABLE,
	RTM_DELROUTE,
	RTM_F_CLONED,
	RTM_GETROUTE,
	RTM_NEWROUTE,
	RTN_UNICAST,
	RTPROT_BOOT,
	SCOPE_NAMES,
} from "./constants";
import { getLink, type LinkRef } from "./link";
import type { NetlinkSocket } from "./socket";

export interface Route {
	family: Family;
	/** CIDR; "0.0.0.0/0" or "::/0" for the default route. */
	dst: string;
	gateway?: string;
	/** ifindex of the outgoing link. */
	oif?: number;
	prefsrc?: string;
	table: number;
	/** RTPROT_*: 2 kernel, 3 boot, 4 static, … */
	protocol: number;
	scope: string;
	/** RTN_*: 1 unicast, 2 local, 3 broadcast, 6 blackhole, 7 unreachable, … */
	type: number;
	metric?: number;
}

/** Decodes one RTM_NEWROUTE payload. Pure. */
export function decodeRoute(payload: Uint8Array): Route & { cloned: boolean } {
	const m = decodeRtmsg(payload);
	const a = decodeAttrs(m.attrs);
	const family = familyOfAf(m.family);
	const dst = a.get(RTA_DST);
	const out: Route & { cloned: boolean } = {
		family,
		dst: `${dst ? formatIp(dst) : family === 4 ? "0.0.0.0" : "::"}/${m.dstLen}`,
		// RTA_TABLE carries tables above 255; rtm_table says RT_TABLE_COMPAT (252) then.
		table: getU32(a.get(RTA_TABLE)) ?? m.table,
		protocol: m.protocol,
		scope: SCOPE_NAMES[m.scope] ?? String(m.scope),
		type: m.type,
		cloned: (m.flags & RTM_F_CLONED) !== 0,
	};
	const gw = a.get(RTA_GATEWAY);
	if (gw) out.gateway = formatIp(gw);
	const oif = getU32(a.get(RTA_OIF));
	if (oif) out.oif = oif;
	const src = a.get(RTA_PREFSRC);
	if (src) out.prefsrc = formatIp(src);
	const metric = getU32(a.get(RTA_PRIORITY));
	if (metric !== undefined) out.metric = metric;
	return out;
}

export interface RouteFilter {
	family?: Family;
	/** A table id, or "all"; default: the main table, like `ip route`. */
	table?: number | "all";
}

export function listRoutes(nl: NetlinkSocket, filter: RouteFilter = {}): Route[] {
	const af = filter.family ? afOf(filter.family) : AF_UNSPEC;
	const table = filter.table ?? RT_TABLE_MAIN;
	return nl
		.dump("list routes", RTM_GETROUTE, encodeRtmsg({ family: af }))
		.filter((r) => r.type === RTM_NEWROUTE)
		.map((r) => decodeRoute(r.payload))
		.filter((r) => !r.cloned && (table === "all" || r.table === table))
		.map(({ cloned: _, ...r }) => r);
}

export interface RouteSpec {
	/** CIDR, or "default" (= 0.0.0.0/0, or ::/0 when the gateway is IPv6). */
	dst: string;
	gateway?: string;
	/** Outgoing link (needed when there is no gateway). */
	dev?: LinkRef;
	metric?: number;
	table?: number;
	src?: string;
}

/** The rtmsg and attributes of `ip route add|del SPEC`. Pure, given the ifindex of `dev`. */
export function routeRequest(spec: RouteSpec, oif: number | undefined) {
	const gwFamily = spec.gateway ? ipFamily(spec.gateway) : undefined;
	if (spec.gateway && !gwFamily) throw new Error(`invalid gateway ${JSON.stringify(spec.gateway)}`);
	const dst =
		spec.dst === "default" ? parseCidr(gwFamily === 6 ? "::/0" : "0.0.0.0/0") : parseCidr(spec.dst);
	if (gwFamily && gwFamily !== dst.family) {
		throw new Error(`gateway ${spec.gateway} is not of the family of ${spec.dst}`);
	}
	const table = spec.table ?? RT_TABLE_MAIN;
	const attrs: Attr[] = [];
	if (dst.prefixLen > 0) attrs.push({ type: RTA_DST, value: parseIp(dst.address) });
	if (spec.gateway) attrs.push({ type: RTA_GATEWAY, value: parseIp(spec.gateway) });
	if (oif !== undefined) attrs.push({ type: RTA_OIF, value: u32(oif) });
	if (spec.metric !== undefined) attrs.push({ type: RTA_PRIORITY, value: u32(spec.metric) });
	if (spec.src) attrs.push({ type: RTA_PREFSRC, value: parseIp(spec.src) });
	if (table > 255) attrs.push({ type: RTA_TABLE, value: u32(table) });
	const body = encodeRtmsg({
		family: afOf(dst.family),
		dstLen: dst.prefixLen,
		table: table > 255 ? 252 : table,
		protocol: RTPROT_BOOT, // what `ip route add` uses
		// A route without a gateway is on-link (scope link), as iproute2 chooses.
		scope: spec.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		type: RTN_UNICAST,
	});
	return { body, attrs, name: `${dst.address}/${dst.prefixLen}` };
}

export function addRoute(nl: NetlinkSocket, spec: RouteSpec): void {
	const oif = spec.dev === undefined ? undefined : resolveIndex(nl, spec.dev);
	const r = routeRequest(spec, oif);
	nl.request(
		`add route ${r.name}${spec.gateway ? ` via ${spec.gateway}` : ""}`,
		RTM_NEWROUTE,
		NLM_F_CREATE | NLM_F_EXCL,
		r.body,
		r.attrs,
	);
}

export function deleteRoute(nl: NetlinkSocket, spec: RouteSpec): void {
	const oif = spec.dev === undefined ? undefined : resolveIndex(nl, spec.dev);
	const r = routeRequest(spec, oif);
	// The kernel matches a delete on what is given; scope NOWHERE matches any scope (iproute2).
	r.body[6] = RT_SCOPE_NOWHERE;
	r.body[5] = 0; // any protocol
	nl.request(`delete route ${r.name}`, RTM_DELROUTE, 0, r.body, r.attrs);
}

function resolveIndex(nl: NetlinkSocket, ref: LinkRef): number {
	return typeof ref === "number" ? ref : getLink(nl, ref).index;
}
