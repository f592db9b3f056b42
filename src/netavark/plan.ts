// What a setup or teardown does to each network, decided from podman's options alone (the front
// end keeps no state: teardown gets the same JSON as setup and decides the same). Pure.
import type { NetworkDef } from "../netconf/schema";
import type { PortMapping as FwMapping } from "../ports/schema";
import { NetavarkError } from "./errors";
import { expandPorts, portsByNetwork } from "./ports";
import { containerAddresses, type NetAddress } from "./result";
import { attachment, type NetworkOptions, type PerNetworkOptions } from "./schema";

/** netavark's default metric of a container's default routes (podman's `-o metric=`). */
export const DEFAULT_METRIC = "100";

export interface NetworkPlan {
	name: string;
	/** The definition as the data plane gets it (netavark's defaults filled in). */
	net: NetworkDef;
	options: PerNetworkOptions;
	ifname: string;
	/** The container's addresses with their subnet's prefix, in subnet order. */
	addresses: NetAddress[];
	mac?: string;
	/** The ports this network carries (see ports.ts). */
	ports: FwMapping[];
	/** Container DNS through aardvark-dns: bridge networks with DNS on (netavark 1.4's rule). */
	dns: boolean;
}

/**
 * One network's plan. Throws (netavark's words) for what netavark's validate() refuses: no
 * bridge name, no static IPs for host-local IPAM.
 */
function planOne(
	name: string,
	def: NetworkDef,
	options: PerNetworkOptions,
): Omit<NetworkPlan, "ports"> {
	if (def.driver === "bridge" && !def.network_interface) {
		throw new NetavarkError("no bridge interface name given");
	}
	let addresses: NetAddress[];
	try {
		addresses = containerAddresses(def, options.static_ips);
	} catch (e) {
		throw new NetavarkError(`IO error: ${(e as Error).message}`);
	}
	// netavark puts its default routes at metric 100 unless the network says otherwise.
	const net: NetworkDef =
		def.options.metric === undefined
			? { ...def, options: { ...def.options, metric: DEFAULT_METRIC } }
			: def;
	return {
		name,
		net,
		options,
		ifname: options.interface_name,
		addresses,
		...(options.static_mac ? { mac: options.static_mac } : {}),
		dns: def.driver === "bridge" && def.dns_enabled,
	};
}

export type PlanOutcome = { plan: NetworkPlan } | { name: string; error: Error };

/**
 * Every network's plan, in name order. Setup wants all or nothing (`strict`: the first refusal
 * throws); teardown wants every network it can read, and the refusals beside them.
 * `portsOnEveryNetwork`: each bridge network carries all the ports, as netavark's iptables
 * driver has it (its first rule wins); ctrnet's nftables table maps a host port once (ports.ts).
 */
export function planNetworks(
	opts: NetworkOptions,
	strict: true,
	portsOnEveryNetwork?: boolean,
): NetworkPlan[];
export function planNetworks(
	opts: NetworkOptions,
	strict: false,
	portsOnEveryNetwork?: boolean,
): PlanOutcome[];
export function planNetworks(
	opts: NetworkOptions,
	strict: boolean,
	portsOnEveryNetwork = false,
): NetworkPlan[] | PlanOutcome[] {
	const partial: ({ plan: Omit<NetworkPlan, "ports"> } | { name: string; error: Error })[] = [];
	for (const name of Object.keys(opts.network_info).sort()) {
		try {
			const a = attachment(opts, name);
			partial.push({ plan: planOne(name, a.network, a.options) });
		} catch (e) {
			if (strict) throw e;
			partial.push({ name, error: e as Error });
		}
	}
	const plans = partial.flatMap((p) => ("plan" in p ? [p.plan] : []));
	const candidates = plans.map((p) => ({
		name: p.name,
		eligible: p.net.driver === "bridge" && !p.net.internal,
		addresses: p.addresses.map((a) => a.ipnet),
	}));
	const ports = expandPorts(opts.port_mappings);
	const byNetwork = portsOnEveryNetwork
		? new Map(candidates.map((c) => [c.name, c.eligible ? ports : []]))
		: portsByNetwork(candidates, ports);
	const full = partial.map((p) =>
		"plan" in p ? { plan: { ...p.plan, ports: byNetwork.get(p.plan.name) ?? [] } } : p,
	);
	return strict ? full.map((p) => (p as { plan: NetworkPlan }).plan) : full;
}
