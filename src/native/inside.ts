// The container's side of an attachment, done in one visit to its netns: IPv6 sysctls of the new
// interface, one lookup (its ifindex and real MAC), then one datagram carrying every change —
// interface up, lo up, addresses, default routes — which the kernel applies in order.
import { ERRNO, SysError } from "../../ffi/errno";
import { close, O_RDONLY, open } from "../../ffi/libc";
import { inNetns } from "../../ffi/netns";
import { NotFoundError } from "../errors";
import {
	addressRequest,
	type BatchItem,
	encodeIfinfomsg,
	getLink,
	IFA_F_NODAD,
	IFF_UP,
	IFLA_IFNAME,
	NetlinkSocket,
	NLM_F_CREATE,
	NLM_F_EXCL,
	RTM_NEWADDR,
	RTM_NEWLINK,
	RTM_NEWROUTE,
	routeRequest,
	str,
} from "../netlink";
import type { InterfacePlan } from "./plan";
import { writeSysctl } from "./sysctl";
import { step } from "./trace";

/** An open fd of the netns at `path` (for IFLA_NET_NS_FD); a missing one is NotFoundError. */
export function openNetns(path: string): number {
	try {
		return open(path, O_RDONLY);
	} catch (e) {
		if (e instanceof SysError && e.errno === ERRNO.ENOENT) {
			throw new NotFoundError(`network namespace ${path} does not exist`);
		}
		throw e;
	}
}

/** The requests that configure interface `index`, in the order the kernel must apply them. */
export function configureRequests(ifname: string, index: number, plan: InterfacePlan): BatchItem[] {
	const up = (name: string, body: Uint8Array, attrs: BatchItem["attrs"] = []): BatchItem => ({
		op: `set ${name} up`,
		type: RTM_NEWLINK,
		flags: 0,
		body,
		attrs,
	});
	const items: BatchItem[] = [
		// Up first: an IPv4 address's subnet route appears only on an up interface, and the
		// routes below need it to reach their gateway.
		up(ifname, encodeIfinfomsg({ index, flags: IFF_UP, change: IFF_UP })),
		up("lo", encodeIfinfomsg({ flags: IFF_UP, change: IFF_UP }), [
			{ type: IFLA_IFNAME, value: str("lo") },
		]),
	];
	for (const a of plan.addresses) {
		const r = addressRequest(index, a.cidr, { flags: a.family === 6 ? IFA_F_NODAD : 0 });
		items.push({
			op: `add address ${r.cidr} to ${ifname}`,
			type: RTM_NEWADDR,
			flags: NLM_F_CREATE | NLM_F_EXCL,
			body: r.body,
			attrs: r.attrs,
		});
	}
	for (const rt of plan.routes) {
		const r = routeRequest({ dst: "default", gateway: rt.gateway, metric: rt.metric }, index);
		items.push({
			op: `add default route via ${rt.gateway} dev ${ifname}`,
			type: RTM_NEWROUTE,
			// Not EXCL: a container on a second network already has a default route of the same
			// metric through the first one; the kernel then keeps both (IPv4: the newer first;
			// IPv6: as one multipath route), as netavark's routes do.
			flags: NLM_F_CREATE,
			tolerate: [ERRNO.EEXIST],
			body: r.body,
			attrs: r.attrs,
		});
	}
	return items;
}

/**
 * Configures `ifname` (already in the netns, still down) as `plan` says; returns its ifindex
 * and MAC. IPv6: no DAD on it (so no address is ever "tentative", the link-local one included:
 * accept_dad must be 0 before the interface comes up) and no SLAAC addresses from stray router
 * advertisements.
 */
export function configureInside(
	netnsPath: string,
	ifname: string,
	plan: InterfacePlan,
): { index: number; mac: string } {
	return inNetns(netnsPath, () => {
		step("container sysctls", () => {
			// Without IPv6 addresses these are precautions: a kernel without IPv6, or a read-only
			// /proc, is no reason to fail (netavark ignores both too).
			const lenient = { missingOk: !plan.ipv6, readOnlyOk: !plan.ipv6 };
			if (writeSysctl(`net/ipv6/conf/${ifname}/accept_dad`, "0", lenient)) {
				writeSysctl(`net/ipv6/conf/${ifname}/autoconf`, "0", lenient);
			}
		});
		const nl = new NetlinkSocket(netnsPath);
		try {
			const link = step("container link lookup", () => getLink(nl, ifname));
			step("container addresses+routes", () =>
				nl.batch(configureRequests(ifname, link.index, plan)),
			);
			return { index: link.index, mac: link.mac };
		} finally {
			nl.close();
		}
	});
}

export function closeQuietly(fd: number): void {
	try {
		close(fd);
	} catch {}
}
