// A container on a macvlan network: a macvlan of the parent interface, created straight in the
// container's netns (IFLA_NET_NS_FD; the parent stays on the host), then configured in one visit
// there (inside.ts). No bridge, no host-side interface, no firewall.
import { existsSync } from "node:fs";
import { ERRNO, SysError } from "../../ffi/errno";
import type { CniResult } from "../cni/result";
import { ConflictError, NotFoundError } from "../errors";
import {
	createMacvlan,
	deleteLinkUnwaited,
	findLink,
	getLink,
	listRoutes,
	NetlinkError,
	type NetlinkSocket,
	setLinkDown,
	withNetlink,
} from "../netlink";
import { closeQuietly, configureInside, openNetns } from "./inside";
import { buildResult, checkIfname, networkOptions, planInterface } from "./plan";
import { step } from "./trace";
import type { NativeNetwork } from "./types";

export interface AttachMacvlanRequest {
	/** network_interface is the parent ("" = the interface of the host's default route). */
	net: NativeNetwork;
	netnsPath: string;
	ifname: string;
	addresses: string[];
	mac?: string;
	mtu?: number;
}

export interface MacvlanAttachment {
	mac: string;
	result: CniResult;
}

/** The interface the host's default route leaves through (IPv4 first), as netavark picks it. */
function defaultRouteInterface(nl: NetlinkSocket, net: NativeNetwork): string {
	for (const family of [4, 6] as const) {
		const r = listRoutes(nl, { family }).find((x) => x.dst.endsWith("/0") && x.oif);
		if (r?.oif) return getLink(nl, r.oif).name;
	}
	throw new NotFoundError(
		`macvlan network ${net.name} names no parent interface and the host has no default route to take it from`,
	);
}

export function attachMacvlan(req: AttachMacvlanRequest): MacvlanAttachment {
	const { net } = req;
	if (net.driver !== "macvlan") {
		throw new ConflictError(`network ${net.name} is a ${net.driver} network, not macvlan`);
	}
	checkIfname(req.ifname, "container interface name");
	if (net.network_interface) checkIfname(net.network_interface, `parent of network ${net.name}`);
	const plan = planInterface(net, req.addresses, req.mtu);
	const { mode } = networkOptions(net);
	withNetlink(undefined, (nl) => {
		const parentName = net.network_interface || defaultRouteInterface(nl, net);
		const parent = findLink(nl, parentName);
		if (!parent) {
			throw new NotFoundError(
				`parent interface ${parentName} of macvlan network ${net.name} does not exist`,
			);
		}
		const fd = openNetns(req.netnsPath);
		try {
			step("macvlan create", () =>
				createMacvlan(nl, req.ifname, {
					parent: parent.index,
					mode,
					mtu: plan.mtu,
					mac: req.mac,
					netnsFd: fd,
				}),
			);
		} catch (e) {
			if (e instanceof NetlinkError && e.errno === ERRNO.EEXIST) {
				throw new ConflictError(
					`interface ${req.ifname} already exists in network namespace ${req.netnsPath}`,
				);
			}
			throw e;
		} finally {
			closeQuietly(fd);
		}
	});
	try {
		const inside = configureInside(req.netnsPath, req.ifname, plan);
		const result = buildResult(
			plan,
			{ name: req.ifname, mac: inside.mac, sandbox: req.netnsPath },
			undefined,
		);
		return { mac: inside.mac, result };
	} catch (e) {
		try {
			deleteInside(req.netnsPath, req.ifname);
		} catch {}
		throw e;
	}
}

function deleteInside(netnsPath: string, ifname: string, onlyDown = false): void {
	withNetlink(netnsPath, (nl) => {
		const link = findLink(nl, ifname);
		if (!link) return;
		if (link.kind !== "macvlan") {
			throw new ConflictError(
				`interface ${ifname} in ${netnsPath} is a ${link.kind ?? "device"}, not a macvlan; left alone`,
			);
		}
		try {
			if (onlyDown) setLinkDown(nl, link.index);
			else deleteLinkUnwaited(netnsPath, link.index);
		} catch (e) {
			if (!(e instanceof NetlinkError && e.errno === ERRNO.ENODEV)) throw e;
		}
	});
}

export interface DetachMacvlanRequest {
	net: NativeNetwork;
	netnsPath: string;
	ifname: string;
	/**
	 * The caller removes the netns right after (see DetachBridgeRequest.leaveToNetns): the
	 * macvlan is only set down, and goes with the namespace.
	 */
	leaveToNetns?: boolean;
}

/**
 * Deletes the container's macvlan inside its netns. Idempotent: an interface already gone, or
 * a netns already gone (which took the macvlan with it), is success.
 */
export function detachMacvlan(req: DetachMacvlanRequest): void {
	checkIfname(req.ifname, "container interface name");
	if (!existsSync(req.netnsPath)) return;
	try {
		step(req.leaveToNetns ? "macvlan down" : "macvlan delete", () =>
			deleteInside(req.netnsPath, req.ifname, req.leaveToNetns),
		);
	} catch (e) {
		// The mount point outlived its namespace (unmounted, file left): nothing to delete.
		if (e instanceof SysError && (e.errno === ERRNO.ENOENT || e.errno === ERRNO.EINVAL)) return;
		throw e;
	}
}
