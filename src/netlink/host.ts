// Convenience views for the rest of ctrnet: the host's addresses and routes (subnet choice must
// avoid them) and link counters in a namespace (`ctrnet stats`). Each opens one socket, asks,
// and closes it.

import type { Family } from "../ip/address";
import { listAddresses } from "./address";
import { RTN_BLACKHOLE, RTN_PROHIBIT, RTN_UNICAST, RTN_UNREACHABLE } from "./constants";
import { getLink, type LinkStats, listLinks } from "./link";
import { listRoutes } from "./route";
import { withNetlink } from "./socket";

const STEERING = new Set([RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT]);

export interface HostAddress {
	ifname: string;
	family: Family;
	address: string;
	prefixLen: number;
}

export interface HostRoute {
	/** CIDR; "0.0.0.0/0" (or "::/0") for a default route. */
	dst: string;
	gateway?: string;
	ifname?: string;
	family: Family;
}

export interface LinkStatsEntry extends LinkStats {
	ifname: string;
	index: number;
}

/** Every address in the current (host) namespace, with the name of its link. */
export function hostAddresses(): HostAddress[] {
	return withNetlink(undefined, (nl) => {
		const names = new Map(listLinks(nl).map((l) => [l.index, l.name]));
		return listAddresses(nl).map((a) => ({
			ifname: names.get(a.index) ?? String(a.index),
			family: a.family,
			address: a.address,
			prefixLen: a.prefixLen,
		}));
	});
}

/**
 * The routes of the main table of the current (host) namespace, both families, that steer
 * traffic somewhere (unicast, blackhole, unreachable, prohibit); local/broadcast/multicast
 * bookkeeping routes are left out.
 */
export function hostRoutes(): HostRoute[] {
	return withNetlink(undefined, (nl) => {
		const names = new Map(listLinks(nl).map((l) => [l.index, l.name]));
		return listRoutes(nl)
			.filter((r) => STEERING.has(r.type))
			.map((r) => {
				const out: HostRoute = { dst: r.dst, family: r.family };
				if (r.gateway) out.gateway = r.gateway;
				const ifname = r.oif === undefined ? undefined : names.get(r.oif);
				if (ifname) out.ifname = ifname;
				return out;
			});
	});
}

/** Counters of one link (by name) or of every link in the netns at `netnsPath`. */
export function linkStats(netnsPath: string, ifname: string): LinkStatsEntry;
export function linkStats(netnsPath: string): LinkStatsEntry[];
export function linkStats(netnsPath: string, ifname?: string): LinkStatsEntry | LinkStatsEntry[] {
	return withNetlink(netnsPath, (nl) => {
		const entry = (l: ReturnType<typeof getLink>) => ({
			ifname: l.name,
			index: l.index,
			...l.stats64,
		});
		if (ifname !== undefined) return entry(getLink(nl, ifname));
		return listLinks(nl).map(entry);
	});
}
