// The inspect object (Docker/podman names, DESIGN 4), built from a stored container. Pure.
import { type CniResult, parseResult } from "../cni";
import { dnsNames } from "../dns/config";
import { networkDnsStatus } from "../dns/resolv";
import type { PortMapping } from "../ports/schema";
import type { Container } from "../state/schema";

/** A stored CNI result in the internal model (any version reads); undefined when unreadable. */
function readResult(raw: unknown): CniResult | undefined {
	try {
		return raw === undefined ? undefined : parseResult(raw);
	} catch {
		return undefined;
	}
}

export interface BasicNetworkConfig {
	EndpointID: string;
	Gateway: string;
	IPAddress: string;
	IPPrefixLen: number;
	IPv6Gateway: string;
	GlobalIPv6Address: string;
	GlobalIPv6PrefixLen: number;
	MacAddress: string;
	SecondaryIPAddresses?: string[];
	SecondaryIPv6Addresses?: string[];
	AdditionalMACAddresses?: string[];
}

export interface NetworkEntry extends BasicNetworkConfig {
	NetworkID: string;
	Aliases?: string[];
	/** Docker's field: the names this container answers to on the network's DNS (none: no DNS). */
	DNSNames?: string[];
	/** ctrnet additions (DESIGN 12): what the container's resolv.conf should say for it. */
	DNSServers?: string[];
	DNSSearchDomains?: string[];
	/** ctrnet addition: the interface inside the container. */
	InterfaceName: string;
	/** ctrnet addition: what the addresses are, where that is not obvious (pasta). */
	Note?: string;
}

export interface InspectObject {
	Id: string;
	Name: string;
	NetworkSettings: BasicNetworkConfig & {
		Bridge: string;
		SandboxID: string;
		SandboxKey: string;
		HairpinMode: boolean;
		LinkLocalIPv6Address: string;
		LinkLocalIPv6PrefixLen: number;
		Ports: Record<string, { HostIp: string; HostPort: string }[]>;
		Networks: Record<string, NetworkEntry>;
	};
}

function emptyBasic(): BasicNetworkConfig {
	return {
		EndpointID: "",
		Gateway: "",
		IPAddress: "",
		IPPrefixLen: 0,
		IPv6Gateway: "",
		GlobalIPv6Address: "",
		GlobalIPv6PrefixLen: 0,
		MacAddress: "",
	};
}

/** A stored result's basic config (ps, the forwarder); inspect reads each result once, below. */
export function basicFromResult(raw: unknown): BasicNetworkConfig {
	return basicOf(readResult(raw));
}

/** podman's resultToBasicNetworkConfig: first v4 and first v6 on top, the rest as secondaries. */
function basicOf(r: CniResult | undefined): BasicNetworkConfig {
	const out = emptyBasic();
	if (!r) return out;
	const { interfaces, ips } = r;
	for (const ip of ips) {
		const [addr = "", len = "0"] = ip.address.split("/");
		const mac = ip.interface === undefined ? undefined : interfaces[ip.interface]?.mac;
		if (!addr.includes(":")) {
			if (!out.IPAddress) {
				out.IPAddress = addr;
				out.IPPrefixLen = Number(len);
				out.Gateway = ip.gateway ?? "";
				out.MacAddress = mac ?? "";
			} else {
				out.SecondaryIPAddresses = [...(out.SecondaryIPAddresses ?? []), ip.address];
				if (mac) out.AdditionalMACAddresses = [...(out.AdditionalMACAddresses ?? []), mac];
			}
		} else if (!out.GlobalIPv6Address) {
			out.GlobalIPv6Address = addr;
			out.GlobalIPv6PrefixLen = Number(len);
			out.IPv6Gateway = ip.gateway ?? "";
			if (!out.MacAddress && mac) out.MacAddress = mac;
		} else {
			out.SecondaryIPv6Addresses = [...(out.SecondaryIPv6Addresses ?? []), ip.address];
		}
	}
	return out;
}

export function portBindings(
	ports: PortMapping[],
): Record<string, { HostIp: string; HostPort: string }[]> {
	const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
	for (const p of ports) {
		const key = `${p.containerPort}/${p.protocol}`;
		if (!out[key]) out[key] = [];
		out[key].push({ HostIp: p.hostIP, HostPort: String(p.hostPort) });
	}
	return out;
}

/** The bridge a result names: the first interface without a sandbox that is not the host veth. */
function bridgeName(r: CniResult | undefined): string {
	return r?.interfaces.find((i) => !i.sandbox)?.name ?? "";
}

/** The key of pasta's result among the container's results (it has no networks). */
export const PASTA_RESULT = "pasta";

/** pasta's entry, named after the mode as podman names it ("pasta"); its addresses are copies. */
export const PASTA_NOTE =
	"pasta copied the host's addresses and routes into the container: IPAddress is the host's own address (reach the container through its published ports)";

function pastaEntry(r: CniResult | undefined, basic: BasicNetworkConfig): NetworkEntry {
	const nameservers = r?.dns.nameservers;
	return {
		NetworkID: "pasta",
		...basic,
		// The forwarder pasta answers DNS on (--dns-forward), for the container's resolv.conf.
		...(nameservers?.length ? { DNSServers: nameservers } : {}),
		InterfaceName: r?.interfaces[0]?.name ?? "",
		Note: PASTA_NOTE,
	};
}

/**
 * The DNS a network gives the container: a native network with DNS on names its gateways and
 * dns.podman (netavark's rule); a CNI result (`r`, the stored one read) carries what its DNS
 * plugin (dnsname) reported.
 */
function dnsOf(
	stored: unknown,
	r: CniResult | undefined,
	name: string,
	aliases: readonly string[],
): Pick<NetworkEntry, "DNSNames" | "DNSServers" | "DNSSearchDomains"> {
	const native = (
		stored as { ctrnet?: { network?: { dns_enabled?: boolean; subnets?: { gateway?: string }[] } } }
	)?.ctrnet?.network;
	let servers: string[] = [];
	let search: string[] = [];
	if (native) {
		const status = networkDnsStatus({
			dnsEnabled: native.dns_enabled === true,
			gateways: (native.subnets ?? []).map((s) => s.gateway ?? "").filter(Boolean),
		});
		servers = status.dns_server_ips;
		search = status.dns_search_domains;
	} else {
		const dns = r?.dns;
		servers = dns?.nameservers ?? [];
		search = dns?.search ?? (dns?.domain ? [dns.domain] : []);
	}
	if (servers.length === 0) return {};
	return { DNSNames: dnsNames(name, aliases), DNSServers: servers, DNSSearchDomains: search };
}

export function buildInspect(c: Container): InspectObject {
	const networks: Record<string, NetworkEntry> = {};
	// The top-level fields: the first network's, else pasta's, else empty.
	let top = emptyBasic();
	let bridge = "";
	// Each stored result is read (validated) once.
	if (c.mode.mode === "pasta") {
		const r = readResult(c.results[PASTA_RESULT]);
		top = basicOf(r);
		networks.pasta = pastaEntry(r, top);
	}
	for (const [i, net] of c.networks.entries()) {
		const r = readResult(c.results[net]);
		const basic = basicOf(r);
		const aliases = c.aliases[net];
		networks[net] = {
			NetworkID: net,
			...basic,
			...(aliases?.length ? { Aliases: aliases } : {}),
			...dnsOf(c.results[net], r, c.name, aliases ?? []),
			InterfaceName: c.interfaces[net] ?? "",
		};
		if (i === 0) {
			top = basic;
			bridge = bridgeName(r);
		}
	}
	return {
		Id: c.id,
		Name: c.name,
		NetworkSettings: {
			...top,
			Bridge: bridge,
			SandboxID: c.id,
			SandboxKey: c.netns?.path ?? "",
			HairpinMode: false,
			LinkLocalIPv6Address: "",
			LinkLocalIPv6PrefixLen: 0,
			Ports: portBindings(c.ports),
			Networks: networks,
		},
	};
}

/**
 * What `inspect` shows for a container: its own settings, or — when it shares another's
 * namespace (`--network container:ID`) — that one's networks under its own ID and name (podman's
 * NetNsCtr rule). `lookup` finds another container's record.
 */
export function inspectView(
	c: Container,
	lookup: (id: string) => Container | undefined,
): InspectObject {
	if (c.mode.mode === "container") {
		const other = lookup(c.mode.id);
		if (other) return { ...buildInspect(other), Id: c.id, Name: c.name };
	}
	return buildInspect(c);
}
