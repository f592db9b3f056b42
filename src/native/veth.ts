// A container on a bridge network: a veth pair whose container end is born in the container's
// netns (IFLA_NET_NS_FD on the peer) and whose host end is born on the bridge and up (IFLA_MASTER
// and IFF_UP in the same request) — one request on the host — then one visit to the container's
// netns (inside.ts). Any failure after the veth exists deletes it before the error goes up.
import { ERRNO } from "../../ffi/errno";
import type { CniResult } from "../cni/result";
import { ConflictError } from "../errors";
import {
	deleteLink,
	deleteLinkUnwaited,
	encodeIfinfomsg,
	findLink,
	IFF_UP,
	IFLA_MASTER,
	NetlinkError,
	type NetlinkSocket,
	NLM_F_CREATE,
	NLM_F_EXCL,
	RTM_NEWLINK,
	u32,
	vethRequest,
	withNetlink,
} from "../netlink";
import { ensureBridge } from "./bridge";
import { closeQuietly, configureInside, openNetns } from "./inside";
import { lockNetwork } from "./lock";
import { hostVethName, randomMac } from "./names";
import { buildResult, checkIfname, planInterface } from "./plan";
import { step } from "./trace";
import type { NativeNetwork } from "./types";

export interface AttachBridgeRequest {
	net: NativeNetwork;
	/** The container's netns (a bind-mounted nsfs file or /proc/PID/ns/net). */
	netnsPath: string;
	/** The interface name inside the container, e.g. eth0. */
	ifname: string;
	/** CIDRs with the subnet's prefix ("10.89.0.5/24", "fd00::5/64"); a bare IP takes it. */
	addresses: string[];
	/** Static MAC of the container interface. */
	mac?: string;
	/** MTU of both veth ends; default: the network's `mtu` option, else the kernel's. */
	mtu?: number;
	/**
	 * The per-network lock dir. Given: the shared lock is held here while the bridge is made sure
	 * of and the veth attached. Omit it when the caller already holds that lock.
	 */
	lockDir?: string;
}

export interface BridgeAttachment {
	/** Host end of the veth (keep it: detachBridge needs it). */
	hostVeth: string;
	/** The container interface's MAC, as the kernel has it. */
	mac: string;
	result: CniResult;
}

const ATTEMPTS = 4;

/** Creates the veth; returns the host end's name (see names.ts on clashes). */
function createPair(
	nl: NetlinkSocket,
	req: AttachBridgeRequest,
	bridgeIndex: number,
	netnsFd: number,
	hostMac: string,
	mtu: number | undefined,
): string {
	for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
		const hostVeth = hostVethName(req.netnsPath, req.ifname, attempt);
		const r = vethRequest(
			hostVeth,
			req.ifname,
			{ mtu, mac: hostMac, peerMac: req.mac, master: bridgeIndex, up: true },
			netnsFd,
		);
		try {
			nl.request(
				`create veth ${hostVeth} for ${req.ifname} in ${req.netnsPath}`,
				RTM_NEWLINK,
				NLM_F_CREATE | NLM_F_EXCL,
				r.body,
				r.attrs,
			);
			return hostVeth;
		} catch (e) {
			if (!(e instanceof NetlinkError && e.errno === ERRNO.EEXIST)) throw e;
			// Either name can be the one taken: ours on the host (try the next), or the
			// container's inside its netns (the caller's mistake).
			if (!findLink(nl, hostVeth)) {
				throw new ConflictError(
					`interface ${req.ifname} already exists in network namespace ${req.netnsPath}`,
				);
			}
		}
	}
	throw new ConflictError(
		`no free host interface name for ${req.ifname} in ${req.netnsPath} after ${ATTEMPTS} tries`,
	);
}

/** Attaches a container to a bridge network (creating the bridge when it is the first). */
export function attachBridge(req: AttachBridgeRequest): BridgeAttachment {
	checkIfname(req.ifname, "container interface name");
	const plan = planInterface(req.net, req.addresses, req.mtu);
	const lock = req.lockDir
		? step("lock", () => lockNetwork(req.lockDir as string, req.net.name, "shared"))
		: undefined;
	try {
		return withNetlink(undefined, (nl) => {
			const bridge = ensureBridge(req.net, nl);
			const fd = openNetns(req.netnsPath);
			const hostMac = randomMac();
			let hostVeth: string;
			try {
				hostVeth = step("veth create", () =>
					createPair(nl, req, bridge.index, fd, hostMac, plan.mtu),
				);
			} finally {
				closeQuietly(fd);
			}
			try {
				const inside = configureInside(req.netnsPath, req.ifname, plan);
				const result = buildResult(
					plan,
					{ name: req.ifname, mac: inside.mac, sandbox: req.netnsPath },
					{
						bridge: { name: bridge.name, mac: bridge.mac },
						veth: { name: hostVeth, mac: hostMac },
					},
				);
				return { hostVeth, mac: inside.mac, result };
			} catch (e) {
				try {
					deleteLink(nl, hostVeth);
				} catch {}
				throw e;
			}
		});
	} finally {
		lock?.release();
	}
}

/** Down and off its bridge in one request: no traffic reaches the container any more. */
function releaseLink(nl: NetlinkSocket, index: number): void {
	nl.request(
		`release veth ${index}`,
		RTM_NEWLINK,
		0,
		encodeIfinfomsg({ index, flags: 0, change: IFF_UP }),
		[{ type: IFLA_MASTER, value: u32(0) }],
	);
}

export interface DetachBridgeRequest {
	net: NativeNetwork;
	netnsPath?: string;
	ifname: string;
	/** The host end attachBridge returned. */
	hostVeth: string;
	/**
	 * The caller removes the container's netns right after, and nothing else keeps it alive:
	 * the veth is only taken off the bridge and set down (one request), and the kernel deletes
	 * it with the namespace, on its own time. Deleting it here makes the caller wait for the
	 * kernel's RCU grace period instead (scripts/bench/native.ts measures both). Should the
	 * namespace live on (a process still in it), the veth stays, down and on no bridge, until
	 * the namespace goes.
	 */
	leaveToNetns?: boolean;
}

/**
 * Deletes the container's veth from the host side (both ends go; it works when the container's
 * netns is gone already). Already gone is success. A link of that name that is not a veth is
 * left alone and reported.
 */
export function detachBridge(req: DetachBridgeRequest): void {
	checkIfname(req.hostVeth, "host veth name");
	withNetlink(undefined, (nl) => {
		const link = findLink(nl, req.hostVeth);
		if (!link) return;
		if (link.kind !== "veth") {
			throw new ConflictError(
				`interface ${req.hostVeth} is a ${link.kind ?? "device"}, not the veth of ${req.ifname} on network ${req.net.name}; left alone`,
			);
		}
		step(req.leaveToNetns ? "veth off the bridge" : "veth delete", () => {
			try {
				if (req.leaveToNetns) releaseLink(nl, link.index);
				else deleteLinkUnwaited(undefined, link.index);
			} catch (e) {
				if (!(e instanceof NetlinkError && e.errno === ERRNO.ENODEV)) throw e;
			}
		});
	});
}
