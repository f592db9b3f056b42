// A bridge network's bridge: made on the first attachment, removed after the last one.
//
// ensureBridge is idempotent and safe when many setups race: a bridge that exists and is up is
// finished (being brought up is the last step of making one), so the common case costs one
// lookup. A setup that finds it missing creates it; one that loses the race (EEXIST) or finds
// it still down helps finish it — every step (sysctls, addresses, up) tolerates being done
// twice. Runs in the JS thread's current netns (the host, or a rootless netns the caller
// entered), whose /proc/sys it writes.
import { ERRNO, SysError } from "../../ffi/errno";
import { ConflictError, CtrnetError } from "../errors";
import {
	addressRequest,
	type BatchItem,
	createBridge,
	deleteLinkUnwaited,
	encodeIfinfomsg,
	findLink,
	IFA_F_NODAD,
	IFF_UP,
	type Link,
	listLinks,
	NetlinkError,
	type NetlinkSocket,
	NLM_F_CREATE,
	NLM_F_EXCL,
	RTM_NEWADDR,
	RTM_NEWLINK,
	withNetlink,
} from "../netlink";
import { lockNetwork } from "./lock";
import { randomMac } from "./names";
import { bridgeAddresses, checkIfname, hasIpv6, networkOptions } from "./plan";
import { ensureSysctl, writeSysctl } from "./sysctl";
import { step } from "./trace";
import type { NativeNetwork } from "./types";

export interface BridgeLink {
	name: string;
	index: number;
	mac: string;
	mtu: number;
}

export function bridgeName(net: NativeNetwork): string {
	if (net.driver !== "bridge") {
		throw new ConflictError(`network ${net.name} is a ${net.driver} network, not a bridge`);
	}
	return checkIfname(net.network_interface, `bridge name of network ${net.name}`);
}

function asBridge(net: NativeNetwork, link: Link): Link {
	if (link.kind !== "bridge") {
		throw new ConflictError(
			`interface ${link.name} exists and is not a bridge (${link.kind ?? "a device"}); network ${net.name} cannot use it`,
		);
	}
	return link;
}

const toBridgeLink = (l: Link): BridgeLink => ({
	name: l.name,
	index: l.index,
	mac: l.mac,
	mtu: l.mtu,
});

/** Forwarding on, host-wide (this netns): containers reach the outside through the host. */
function enableForwarding(net: NativeNetwork, ipv6: boolean): void {
	ensureSysctl("net/ipv4/ip_forward", "1");
	if (!ipv6) return;
	try {
		ensureSysctl("net/ipv6/conf/all/forwarding", "1");
	} catch (e) {
		if (e instanceof SysError && e.errno === ERRNO.ENOENT) {
			throw new CtrnetError(
				`network ${net.name} has IPv6 subnets, but IPv6 is disabled in this kernel (no /proc/sys/net/ipv6)`,
			);
		}
		throw e;
	}
}

/**
 * The bridge's own sysctls, before its addresses and before it is up. route_localnet lets
 * DNAT of 127.0.0.1 published ports leave through it; IPv6: no duplicate address detection
 * (its link-local address would sit "tentative" for a second) and no router advertisements
 * taken from containers. An internal network's bridge forwards nothing.
 */
function configureSysctls(net: NativeNetwork, name: string, ipv6: boolean): void {
	// A read-only /proc (a sandboxed caller; netavark's suite tests it) can still run containers
	// without published ports: attachNative insists on route_localnet only when ports need it.
	if (!net.internal) writeSysctl(`net/ipv4/conf/${name}/route_localnet`, "1", { readOnlyOk: true });
	if (ipv6) {
		writeSysctl(`net/ipv6/conf/${name}/accept_dad`, "0");
		writeSysctl(`net/ipv6/conf/${name}/accept_ra`, "0");
	}
	if (net.internal) {
		writeSysctl(`net/ipv4/conf/${name}/forwarding`, "0");
		if (ipv6) writeSysctl(`net/ipv6/conf/${name}/forwarding`, "0");
	}
}

/** Gateway addresses (already there is fine) and up, in one datagram. */
function finishBridge(nl: NetlinkSocket, net: NativeNetwork, link: Link): void {
	const items: BatchItem[] = bridgeAddresses(net).map((cidr) => {
		const r = addressRequest(link.index, cidr, { flags: cidr.includes(":") ? IFA_F_NODAD : 0 });
		return {
			op: `add address ${r.cidr} to bridge ${link.name}`,
			type: RTM_NEWADDR,
			flags: NLM_F_CREATE | NLM_F_EXCL,
			body: r.body,
			attrs: r.attrs,
			tolerate: [ERRNO.EEXIST],
		};
	});
	items.push({
		op: `set bridge ${link.name} up`,
		type: RTM_NEWLINK,
		flags: 0,
		body: encodeIfinfomsg({ index: link.index, flags: IFF_UP, change: IFF_UP }),
	});
	nl.batch(items);
}

/**
 * Makes sure the network's bridge exists, carries the gateway addresses and is up, and that the
 * host forwards. `nl` is a socket in the current netns (one is opened when not given).
 */
export function ensureBridge(net: NativeNetwork, nl?: NetlinkSocket): BridgeLink {
	if (!nl) return withNetlink(undefined, (s) => ensureBridge(net, s));
	const name = bridgeName(net);
	const opts = networkOptions(net);
	const ipv6 = hasIpv6(net);
	step("forwarding sysctls", () => enableForwarding(net, ipv6));
	const found = step("bridge lookup", () => findLink(nl, name));
	if (found && asBridge(net, found).up) return toBridgeLink(found);
	return step("bridge create or finish", () => {
		if (!found) {
			try {
				createBridge(nl, name, { mtu: opts.mtu, mac: randomMac() });
			} catch (e) {
				if (!(e instanceof NetlinkError && e.errno === ERRNO.EEXIST)) throw e;
			}
		}
		const link = found ?? findLink(nl, name);
		if (!link) throw new ConflictError(`bridge ${name} vanished while it was being set up`);
		asBridge(net, link);
		configureSysctls(net, name, ipv6);
		finishBridge(nl, net, link);
		return toBridgeLink({ ...link, up: true });
	});
}

export interface RemoveBridgeOptions {
	/** The per-network lock dir (the same one setups lock in). */
	lockDir: string;
	/**
	 * Runs while the exclusive lock is held, once the network has no container left (bridge
	 * deleted or already gone): the place for the network's own firewall rules to go.
	 */
	underLock?: () => void;
}

/** The bridge and its ports, or undefined when there is no such bridge. */
function bridgeAndPorts(
	nl: NetlinkSocket,
	net: NativeNetwork,
	name: string,
): { bridge: Link; ports: Link[] } | undefined {
	const link = findLink(nl, name);
	if (!link) return undefined;
	const bridge = asBridge(net, link);
	return { bridge, ports: listLinks(nl, { master: bridge.index }) };
}

/**
 * Deletes the network's bridge when no interface is attached to it any more. Returns true when
 * the network is now without a bridge (deleted here, or already gone) — `underLock` has run
 * then — and false when containers are still attached.
 *
 * A quick look without the lock first: a bridge with ports stays, and the last teardown (which
 * deleted its veth before looking) is the one that sees none. Then, under the exclusive lock,
 * no setup can be half-way; look again, delete.
 */
export function removeBridgeIfUnused(net: NativeNetwork, opts: RemoveBridgeOptions): boolean {
	const name = bridgeName(net);
	return withNetlink(undefined, (nl) => {
		const before = bridgeAndPorts(nl, net, name);
		if (before && before.ports.length > 0) return false;
		using _lock = lockNetwork(opts.lockDir, net.name, "exclusive");
		const now = bridgeAndPorts(nl, net, name);
		if (now && now.ports.length > 0) return false;
		if (now) {
			try {
				// Unlisted is enough: a setup waiting for our lock makes a new bridge of that name.
				deleteLinkUnwaited(undefined, now.bridge.index);
			} catch (e) {
				if (!(e instanceof NetlinkError && e.errno === ERRNO.ENODEV)) throw e;
			}
		}
		opts.underLock?.();
		return true;
	});
}
