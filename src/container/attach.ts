// Attaching a container to one CNI network and detaching it: the RuntimeConf podman v2 built
// (getPodNetwork + ocicni's buildCNIRuntimeConf), then ADD or DEL.
import type { CniResult, NetworkConfigList, RuntimeConf } from "../cni";
import { findNetwork } from "../cni";
import { ensureDefaultNetwork } from "../network";
import type { Container } from "../state/schema";
import type { Runtime } from "./runtime";

/** A fixed address for this attachment: --ip/--mac at setup, the old ones at reload. */
export interface Pin {
	ip?: string;
	mac?: string;
}

export function runtimeConf(c: Container, network: string, pin: Pin = {}): RuntimeConf {
	const args: [string, string][] = [
		["IgnoreUnknown", "1"],
		["K8S_POD_NAMESPACE", c.name],
		["K8S_POD_NAME", c.name],
		["K8S_POD_INFRA_CONTAINER_ID", c.id],
	];
	const capabilityArgs: Record<string, unknown> = {};
	if (pin.ip) {
		args.push(["IP", pin.ip]);
		capabilityArgs.ips = [pin.ip];
	}
	if (pin.mac) {
		args.push(["MAC", pin.mac]);
		capabilityArgs.mac = pin.mac;
	}
	if (network === c.portsNetwork && c.ports.length > 0) capabilityArgs.portMappings = c.ports;
	// dnsname wants every network's aliases (podman passes the whole map).
	if (Object.values(c.aliases).some((a) => a.length > 0)) capabilityArgs.aliases = c.aliases;
	return {
		containerId: c.id,
		netns: c.netns?.path ?? "",
		ifName: c.interfaces[network] ?? "",
		args,
		capabilityArgs,
	};
}

/** The first ethN the container has never used; a network it had before keeps its old name. */
export function interfaceFor(c: Container, network: string): string {
	const old = c.interfaces[network];
	if (old) return old;
	const used = new Set(Object.values(c.interfaces));
	let n = 0;
	while (used.has(`eth${n}`)) n++;
	return `eth${n}`;
}

/** The network's config; the default network is written on first use. */
export async function networkList(rt: Runtime, network: string): Promise<NetworkConfigList> {
	if (network === rt.config.defaultNetwork) return ensureDefaultNetwork(rt.config);
	return findNetwork(rt.config.cniConfigDir, network);
}

export async function attach(
	rt: Runtime,
	c: Container,
	network: string,
	pin: Pin = {},
): Promise<CniResult> {
	const list = await networkList(rt, network);
	return rt.cni.addNetworkList(list, runtimeConf(c, network, pin));
}

/** DEL with the cached config when there is one (it is what ADD used), else the current file. */
export async function detach(rt: Runtime, c: Container, network: string): Promise<void> {
	let list: NetworkConfigList | undefined;
	try {
		list = await networkList(rt, network);
	} catch {
		list = undefined; // the conflist is gone: DEL from the cache alone
	}
	await rt.cni.delNetworkList(list, runtimeConf(c, network), network);
}

/** The IPv4 (else first) address and the MAC of an attachment, to keep them across a re-ADD. */
export function pinFromResult(result: unknown): Pin {
	const r = result as Partial<CniResult> | undefined;
	const ip = r?.ips?.find((i) => !i.address.includes(":")) ?? r?.ips?.[0];
	if (!ip) return {};
	const mac = ip.interface === undefined ? undefined : r?.interfaces?.[ip.interface]?.mac;
	return { ip: ip.address.split("/")[0], ...(mac ? { mac } : {}) };
}
