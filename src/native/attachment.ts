// One container on one native network, whole: the data plane (bridge + veth, or macvlan), the
// firewall (the network's elements and the container's published ports, one nftables transaction)
// and container DNS (aardvark-dns), with every step undone when a later one fails. Addresses come
// chosen (ctrnet's IPAM, or podman's); no container record is read or written here — both ctrnet's
// native backend (container/drivers/native.ts) and the netavark front end (src/netavark) use it.
import type { CniResult } from "../cni/result";
import type { FwNetwork, FwPort } from "../firewall/types";
import type { NetworkDef } from "../netconf/schema";
import type { PortMapping } from "../ports/schema";
import { lockNetwork } from "./lock";
import type { NativeNetwork } from "./types";

export interface DnsTarget {
	/** aardvark's config dir (its files in <dir>/aardvark-dns). */
	configDir: string;
	containerId: string;
	containerName: string;
	aliases: string[];
	/** Where aardvark-dns is spawned (its netns): the caller's thread by default. */
	around?: <T>(spawn: () => T) => T;
	env?: Record<string, string | undefined>;
	binary?: string;
	rootless?: boolean;
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
}

export interface NativeAttachment {
	hostVeth?: string;
	mac: string;
	result: CniResult;
}

/** The firewall's view of a network: bridge networks only (macvlan traffic never crosses the host). */
export function fwNetwork(net: NetworkDef): FwNetwork {
	return {
		name: net.name,
		bridge: net.network_interface,
		subnets: net.subnets.map((s) => s.subnet),
		internal: net.internal,
		isolate: String(net.options.isolate ?? "false") === "true",
	};
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

/** Published ports the firewall cannot carry (`[::1]`): the caller forwards them in userspace. */
export function loopbackV6Ports(ports: readonly PortMapping[]): PortMapping[] {
	return ports.filter((p) => p.hostIP === "::1");
}

const asNative = (net: NetworkDef) => net as unknown as NativeNetwork;

/** Attaches; on failure nothing of it is left. */
export async function attachNative(req: NativeAttachRequest): Promise<NativeAttachment> {
	const { attachBridge } = await import("./veth");
	if (req.net.driver === "macvlan") {
		const { attachMacvlan, detachMacvlan } = await import("./macvlan");
		const a = attachMacvlan({
			net: asNative(req.net),
			netnsPath: req.netnsPath,
			ifname: req.ifname,
			addresses: req.addresses,
			mac: req.mac,
		});
		try {
			await updateDnsFor(req, a.result, "add");
		} catch (e) {
			detachMacvlan({ net: asNative(req.net), netnsPath: req.netnsPath, ifname: req.ifname });
			throw e;
		}
		return { mac: a.mac, result: a.result };
	}
	const { hostFirewall } = await import("../firewall/apply");
	const fw = hostFirewall();
	let attached: { hostVeth: string; mac: string; result: CniResult } | undefined;
	try {
		{
			// Shared with other attachments, exclusive with the bridge's removal: the bridge and
			// the network's firewall elements cannot vanish between here and the container's veth.
			using _lock = lockNetwork(req.lockDir, req.net.name, "shared");
			attached = attachBridge({
				net: asNative(req.net),
				netnsPath: req.netnsPath,
				ifname: req.ifname,
				addresses: req.addresses,
				mac: req.mac,
			});
			fw.setup(fwNetwork(req.net), fwPorts(req.ports, req.addresses), {
				container: req.dns?.containerName ?? req.ifname,
			});
		}
		await updateDnsFor(req, attached.result, "add");
		return attached;
	} catch (e) {
		// Undo all of it — the veth, the container's firewall elements, and the bridge with the
		// network's elements when nothing else uses them — then report the first failure.
		await detachNative({ ...req, hostVeth: attached?.hostVeth, dns: undefined }).catch(() => {});
		throw e;
	}
}

export interface NativeDetachRequest {
	net: NetworkDef;
	netnsPath?: string;
	ifname: string;
	hostVeth?: string;
	/** The addresses it had (for its firewall elements). */
	addresses: string[];
	ports: PortMapping[];
	lockDir: string;
	dns?: DnsTarget;
	/** The caller removes the namespace next: the kernel may take the veth with it (no wait). */
	netnsGoing?: boolean;
}

/** Detaches; idempotent, and works when the namespace is gone. */
export async function detachNative(req: NativeDetachRequest): Promise<void> {
	if (req.dns) await updateDnsFor(req, undefined, "remove");
	if (req.net.driver === "macvlan") {
		const { detachMacvlan } = await import("./macvlan");
		if (req.netnsPath)
			detachMacvlan({
				net: asNative(req.net),
				netnsPath: req.netnsPath,
				ifname: req.ifname,
				leaveToNetns: req.netnsGoing,
			});
		return;
	}
	const { detachBridge } = await import("./veth");
	const { removeBridgeIfUnused } = await import("./bridge");
	const { hostFirewall } = await import("../firewall/apply");
	const fw = hostFirewall();
	const fwNet = fwNetwork(req.net);
	fw.teardown(fwNet, fwPorts(req.ports, req.addresses), { lastOnNetwork: false });
	if (req.hostVeth) {
		detachBridge({
			net: asNative(req.net),
			netnsPath: req.netnsPath,
			ifname: req.ifname,
			hostVeth: req.hostVeth,
			leaveToNetns: req.netnsGoing,
		});
	}
	// The last container takes the bridge and the network's firewall elements with it.
	removeBridgeIfUnused(asNative(req.net), {
		lockDir: req.lockDir,
		underLock: () => fw.teardown(fwNet, [], { lastOnNetwork: true }),
	});
}

async function updateDnsFor(
	req: { net: NetworkDef; dns?: DnsTarget; addresses: string[] },
	_result: CniResult | undefined,
	action: "add" | "remove",
): Promise<void> {
	const dns = req.dns;
	if (!dns || !req.net.dns_enabled) return;
	const { updateDns } = await import("../dns/manager");
	const network = {
		name: req.net.name,
		gateways: req.net.subnets.map((s) => s.gateway).filter((g): g is string => !!g),
	};
	const ips = req.addresses.map((a) => a.split("/")[0] as string);
	await updateDns(
		dns.configDir,
		action === "add"
			? {
					action,
					network,
					containerId: dns.containerId,
					containerName: dns.containerName,
					aliases: dns.aliases,
					ipv4: ips.filter((ip) => !ip.includes(":")),
					ipv6: ips.filter((ip) => ip.includes(":")),
				}
			: { action, network: { name: req.net.name }, containerId: dns.containerId },
		{ around: dns.around, env: dns.env, binary: dns.binary, rootless: dns.rootless },
	);
}
