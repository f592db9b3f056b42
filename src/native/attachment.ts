// One container on one native network, whole: the data plane (bridge + veth, or macvlan), the
// firewall (the network's elements and the container's published ports, one nftables transaction)
// and container DNS (aardvark-dns), with every step undone when a later one fails. Addresses come
// chosen (ctrnet's IPAM, or podman's); no container record is read or written here — both ctrnet's
// native backend (container/drivers/native.ts) and the netavark front end (src/netavark) use it.
import { ERRNO, SysError } from "../../ffi/errno";
import type { CniResult } from "../cni/result";
import type { DnsOptions } from "../dns/manager";
import type { Firewall } from "../firewall/apply";
import type { FwNetwork, FwPort } from "../firewall/types";
import type { NetworkDef } from "../netconf/schema";
import type { PortMapping } from "../ports/schema";
import { lockNetwork } from "./lock";
import { ensureSysctl } from "./sysctl";
import { step } from "./trace";

/** Container DNS for one attachment; aardvark's options are DnsOptions' (dns/manager.ts). */
export interface DnsTarget
	extends Pick<DnsOptions, "around" | "env" | "binary" | "rootless" | "port" | "trustConfigDir"> {
	/** aardvark's config dir (its files in <dir>/aardvark-dns). */
	configDir: string;
	containerId: string;
	containerName: string;
	aliases: string[];
}

export interface NativeAttachRequest {
	net: NetworkDef;
	netnsPath: string;
	ifname: string;
	/** The container's addresses with the subnet's prefix ("10.89.0.5/24"). */
	addresses: string[];
	mac?: string;
	/** Published through this network (ports ride on one network of a container). */
	ports: PortMapping[];
	/** The per-network lock dir (shared with every process that attaches to or removes it). */
	lockDir: string;
	/** Container DNS, when the network has it on. */
	dns?: DnsTarget;
	/**
	 * A published port whose host side already maps to `containerIp` is left as it is when this
	 * says the address is the same container's (on another network: podman's `network connect`
	 * repeats the container's ports); without it, or for another container's address, the port
	 * is refused as taken.
	 */
	ownsAddress?: (containerIp: string) => boolean;
	/** aardvark-dns's port when it is not 53 and DNS is not done here (`dns` has its own). */
	dnsPort?: number;
	/** Names the container in its firewall elements' comments (default: its DNS name). */
	label?: string;
	/** Whose firewall layout: ctrnet's nftables table (default) or netavark's iptables chains. */
	firewall?: FirewallDriver;
	/** The container's ID, for the iptables layout's port rules (netavark's comment names it). */
	containerId?: string;
}

export type FirewallDriver = "nftables" | "iptables";

/**
 * The firewall a detach uses. Under the iptables driver, when ctrnet's own table knows the
 * network's bridge too, it clears the container from both: the netavark front end's default used
 * to be that table, and a container set up then must not leave its port elements (a stale DNAT)
 * behind. (Asking the table's `bridges` set keeps libnftables out of every other teardown.)
 */
async function openDetachDriver(
	driver: FirewallDriver | undefined,
	lockDir: string,
	bridge: string,
) {
	const fw = await openDriver(driver, lockDir);
	if (driver !== "iptables") return fw;
	const { NFPROTO_INET, openNetfilter, setHolds } = await import("../netlink/nftables");
	const { str } = await import("../netlink/codec");
	let ownTable = false;
	try {
		using nl = openNetfilter();
		ownTable = setHolds(nl, NFPROTO_INET, "ctrnet", "bridges", str(bridge));
	} catch {
		// best effort: the container's own driver is the one that must work
	}
	if (!ownTable) return fw;
	const own = await openDriver("nftables");
	return {
		...fw,
		teardown: (...args: Parameters<Firewall["teardown"]>) => {
			const done = fw.teardown(...args);
			try {
				own.teardown(...args);
			} catch {
				// best effort, as above: what the earlier default left must not block this teardown
			}
			return done;
		},
	} satisfies Firewall;
}

async function openDriver(
	driver: FirewallDriver = "nftables",
	lockDir?: string,
): Promise<Firewall> {
	if (driver === "iptables") {
		const { hostIptablesFirewall } = await import("../firewall/iptables/driver");
		// Beside the networks' locks; a leading dot keeps it apart from any network's (lock.ts).
		return hostIptablesFirewall(lockDir && `${lockDir}/.iptables.lock`);
	}
	const { hostFirewall } = await import("../firewall/apply");
	return hostFirewall();
}

export interface NativeAttachment {
	hostVeth?: string;
	mac: string;
	result: CniResult;
}

/**
 * The firewall's view of a network: bridge networks only (macvlan traffic never crosses the host).
 * `dnsPort`: where aardvark-dns listens, when not on 53 (queries to the gateway get redirected).
 */
export function fwNetwork(net: NetworkDef, dnsPort?: number): FwNetwork {
	const fw: FwNetwork = {
		name: net.name,
		bridge: net.network_interface,
		subnets: net.subnets.map((s) => s.subnet),
		internal: net.internal,
		isolate: String(net.options.isolate ?? "false") === "true",
	};
	if (net.dns_enabled && dnsPort !== undefined && dnsPort !== 53) {
		const gateways = net.subnets.map((s) => s.gateway).filter((g): g is string => !!g);
		if (gateways.length > 0) fw.dnsRedirect = { gateways, port: dnsPort };
	}
	return fw;
}

/**
 * The firewall's view of published ports: each mapping towards the container address of its host
 * IP's family (both families for "all addresses"). `[::1]` is left out: the kernel cannot DNAT
 * to it (see src/firewall), so the caller serves it with a userspace forwarder.
 */
export function fwPorts(ports: readonly PortMapping[], addresses: readonly string[]): FwPort[] {
	const ips = addresses.map((a) => a.split("/")[0] as string);
	const v4 = ips.find((ip) => !ip.includes(":"));
	const v6 = ips.find((ip) => ip.includes(":"));
	const out: FwPort[] = [];
	for (const p of ports) {
		if (p.hostIP === "::1") continue;
		const family = p.hostIP === "" ? 0 : p.hostIP.includes(":") ? 6 : 4;
		for (const ip of [family !== 6 ? v4 : undefined, family !== 4 ? v6 : undefined]) {
			if (ip) out.push({ ...p, containerIP: ip });
		}
	}
	return out;
}

/** Attaches; on failure nothing of it is left. */
export async function attachNative(req: NativeAttachRequest): Promise<NativeAttachment> {
	if (req.net.driver === "macvlan") {
		const { attachMacvlan, detachMacvlan } = await import("./macvlan");
		const a = attachMacvlan({
			net: req.net,
			netnsPath: req.netnsPath,
			ifname: req.ifname,
			addresses: req.addresses,
			mac: req.mac,
		});
		try {
			await updateDnsFor(req, "add");
		} catch (e) {
			detachMacvlan({ net: req.net, netnsPath: req.netnsPath, ifname: req.ifname });
			throw e;
		}
		return { mac: a.mac, result: a.result };
	}
	const { attachBridge, detachBridge } = await import("./veth");
	const fw = await openDriver(req.firewall, req.lockDir);
	const fwNet = fwNetwork(req.net, req.dnsPort ?? req.dns?.port);
	const ports = fwPorts(req.ports, req.addresses);
	let attached: { hostVeth: string; mac: string; result: CniResult } | undefined;
	let failure: { error: unknown } | undefined;
	{
		// Shared with other attachments, exclusive with the bridge's removal: the bridge and the
		// network's firewall elements cannot vanish between here and the container's veth.
		using _lock = lockNetwork(req.lockDir, req.net.name, "shared");
		try {
			attached = attachBridge({
				net: req.net,
				netnsPath: req.netnsPath,
				ifname: req.ifname,
				addresses: req.addresses,
				mac: req.mac,
			});
			// 127.0.0.1 ports are DNATed out through the bridge: the kernel must route them there.
			// (Written when the bridge is made; a read-only /proc may have kept it from that.)
			if (ports.some((p) => !p.containerIP.includes(":")) && !req.net.internal) {
				ensureSysctl(`net/ipv4/conf/${req.net.network_interface}/route_localnet`, "1");
			}
			const label = req.label ?? req.dns?.containerName ?? req.ifname;
			step("firewall", () =>
				fw.setup(fwNet, ports, {
					container: label,
					containerId: req.containerId,
					sameContainer: req.ownsAddress,
				}),
			);
		} catch (error) {
			if (attached) {
				detachBridge({ net: req.net, ifname: req.ifname, hostVeth: attached.hostVeth });
			}
			failure = { error };
		}
	}
	if (failure || !attached) {
		// A bridge this attempt made (or found) with no container on it goes again, with the
		// network's firewall elements: a failed setup leaves nothing. (Outside our shared lock:
		// the removal takes it exclusively.)
		try {
			// The iptables driver commits one family at a time: IPv4's ports may be in already.
			if (attached)
				fw.teardown(fwNet, ports, { lastOnNetwork: false, containerId: req.containerId });
		} catch {
			// the attachment's own error is the one to report; the bridge still goes below
		}
		try {
			const { removeBridgeIfUnused } = await import("./bridge");
			removeBridgeIfUnused(req.net, {
				lockDir: req.lockDir,
				underLock: () =>
					fw.teardown(fwNet, [], { lastOnNetwork: true, containerId: req.containerId }),
			});
		} catch {
			// the attachment's own error is the one to report
		}
		throw failure?.error;
	}
	try {
		await updateDnsFor(req, "add");
	} catch (e) {
		await detachNative({ ...req, hostVeth: attached.hostVeth, dns: undefined });
		throw e;
	}
	return attached;
}

export interface NativeDetachRequest {
	net: NetworkDef;
	netnsPath?: string;
	ifname: string;
	/** The host end of the veth; when not known, it is found from `ifname` in `netnsPath`. */
	hostVeth?: string;
	/** The addresses it had (for its firewall elements). */
	addresses: string[];
	ports: PortMapping[];
	lockDir: string;
	dns?: DnsTarget;
	/** The caller removes the namespace next: the kernel may take the veth with it (no wait). */
	netnsGoing?: boolean;
	/** As in NativeAttachRequest. */
	dnsPort?: number;
	firewall?: FirewallDriver;
	containerId?: string;
}

/** Detaches; idempotent, and works when the namespace is gone. */
export async function detachNative(req: NativeDetachRequest): Promise<void> {
	if (req.dns) await updateDnsFor(req, "remove");
	if (req.net.driver === "macvlan") {
		const { detachMacvlan } = await import("./macvlan");
		if (req.netnsPath)
			detachMacvlan({
				net: req.net,
				netnsPath: req.netnsPath,
				ifname: req.ifname,
				leaveToNetns: req.netnsGoing,
			});
		return;
	}
	const { detachBridge } = await import("./veth");
	const { removeBridgeIfUnused } = await import("./bridge");
	const fw = await openDetachDriver(req.firewall, req.lockDir, req.net.network_interface);
	const fwNet = fwNetwork(req.net, req.dnsPort ?? req.dns?.port);
	const containerId = req.containerId;
	step("firewall", () =>
		fw.teardown(fwNet, fwPorts(req.ports, req.addresses), { lastOnNetwork: false, containerId }),
	);
	const hostVeth =
		req.hostVeth ??
		(req.netnsPath ? hostEndOf(await import("../netlink"), req.netnsPath, req.ifname) : undefined);
	if (hostVeth) {
		detachBridge({
			net: req.net,
			netnsPath: req.netnsPath,
			ifname: req.ifname,
			hostVeth,
			leaveToNetns: req.netnsGoing,
		});
	}
	// The last container takes the bridge and the network's firewall elements with it.
	removeBridgeIfUnused(req.net, {
		lockDir: req.lockDir,
		underLock: () => fw.teardown(fwNet, [], { lastOnNetwork: true, containerId }),
	});
}

/**
 * The host end of the container's veth `ifname`, from its peer index (the veth's IFLA_LINK, an
 * ifindex in our namespace); undefined when the namespace, the interface or its peer is gone, or
 * it is not a veth.
 */
function hostEndOf(
	{ findLink, withNetlink }: typeof import("../netlink"),
	netnsPath: string,
	ifname: string,
): string | undefined {
	let peer: number | undefined;
	try {
		peer = withNetlink(netnsPath, (nl) => {
			const link = findLink(nl, ifname);
			return link?.kind === "veth" ? link.link : undefined;
		});
	} catch (e) {
		// The namespace is gone (its veth with it), or its mount point is a stale file.
		if (e instanceof SysError && (e.errno === ERRNO.ENOENT || e.errno === ERRNO.EINVAL)) return;
		throw e;
	}
	if (peer === undefined) return undefined;
	return withNetlink(undefined, (nl) => {
		const link = findLink(nl, peer as number);
		return link?.kind === "veth" ? link.name : undefined;
	});
}

async function updateDnsFor(
	req: { net: NetworkDef; dns?: DnsTarget; addresses: string[] },
	action: "add" | "remove",
): Promise<void> {
	if (!req.dns || !req.net.dns_enabled) return;
	const { configDir, containerId, containerName, aliases, ...options } = req.dns;
	const { updateDns } = await import("../dns/manager");
	const network = {
		name: req.net.name,
		gateways: req.net.subnets.map((s) => s.gateway).filter((g): g is string => !!g),
	};
	const ips = req.addresses.map((a) => a.split("/")[0] as string);
	await updateDns(
		configDir,
		action === "add"
			? {
					action,
					network,
					containerId,
					containerName,
					aliases,
					ipv4: ips.filter((ip) => !ip.includes(":")),
					ipv6: ips.filter((ip) => ip.includes(":")),
				}
			: { action, network: { name: req.net.name }, containerId },
		options,
	);
}
