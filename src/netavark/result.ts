// What netavark 1.4 prints on stdout, built from plain data: the setup result podman decodes
// into map[string]StatusBlock, the error object, and `version`. Key order and null-versus-absent
// follow netavark's serde output (captured in notes/netavark-samples/). Pure.
import { networkDnsStatus } from "../dns/resolv";
import { UsageError } from "../errors";
import { contains, parseSubnet } from "../ip/cidr";
import type { NetworkDef } from "../netconf/schema";

export interface NetAddress {
	/** null (not absent) when the subnet has no gateway: netavark serialises None as null. */
	gateway: string | null;
	/** The container's address with its SUBNET's prefix length ("10.89.0.2/24"). */
	ipnet: string;
}

export interface NetInterface {
	mac_address: string;
	subnets: NetAddress[];
}

export interface StatusBlock {
	dns_search_domains: string[];
	dns_server_ips: string[];
	interfaces: Record<string, NetInterface>;
}

/**
 * The container's addresses on `network` paired with its subnets, in subnet order: for each
 * subnet the one of `ips` inside it. netavark 1.4 pairs by position; podman sends the IPs in
 * subnet order, so pairing by containment gives the same answer and cannot give a wrong prefix.
 * Nothing for IPAM none.
 */
export function containerAddresses(network: NetworkDef, ips: readonly string[]): NetAddress[] {
	if (network.ipam_options.driver === "none") return [];
	if (network.subnets.length > 0 && ips.length === 0)
		throw new UsageError("no static ips provided");
	return network.subnets.map((entry) => {
		const subnet = parseSubnet(entry.subnet);
		const ip = ips.find((a) => contains(subnet, a));
		if (!ip) {
			throw new UsageError(
				`no static ip in subnet ${entry.subnet} of network ${network.name} (got ${ips.join(", ")})`,
			);
		}
		return { gateway: entry.gateway ?? null, ipnet: `${ip}/${subnet.prefixLen}` };
	});
}

export interface StatusDns {
	/** Container DNS on this network (default: the network's dns_enabled). */
	dns?: boolean;
	/**
	 * The container's own resolvers (podman's dns_servers): netavark reports them as the
	 * network's servers when DNS is off on a bridge network, so podman writes them.
	 */
	containerDnsServers?: readonly string[];
}

/**
 * One network's StatusBlock: DNS (the gateways as nameservers, search domain dns.podman) only
 * when the network has DNS enabled, as netavark reports it.
 */
export function statusBlock(
	network: NetworkDef,
	interfaceName: string,
	macAddress: string,
	addresses: readonly NetAddress[],
	opts: StatusDns = {},
): StatusBlock {
	const dns = networkDnsStatus({
		dnsEnabled: opts.dns ?? network.dns_enabled,
		gateways: addresses.map((a) => a.gateway).filter((g): g is string => g !== null),
		containerDnsServers: network.driver === "bridge" ? opts.containerDnsServers : [],
	});
	return {
		dns_search_domains: dns.dns_search_domains,
		dns_server_ips: dns.dns_server_ips,
		interfaces: {
			[interfaceName]: {
				mac_address: macAddress,
				subnets: addresses.map((a) => ({ gateway: a.gateway, ipnet: a.ipnet })),
			},
		},
	};
}

function byName<T>(record: Record<string, T>): Record<string, T> {
	return Object.fromEntries(
		Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
	);
}

/** The setup stdout: one compact JSON object keyed by network name (sorted), then a newline. */
export function formatSetupOutput(blocks: Record<string, StatusBlock>): string {
	const doc = Object.fromEntries(
		Object.entries(byName(blocks)).map(([name, b]) => [
			name,
			{
				dns_search_domains: b.dns_search_domains,
				dns_server_ips: b.dns_server_ips,
				interfaces: byName(b.interfaces),
			},
		]),
	);
	return `${JSON.stringify(doc)}\n`;
}

/** The failure stdout (exit code 1): `{"error":"..."}` and nothing else (podman refuses other keys). */
export function formatErrorOutput(message: string): string {
	return `${JSON.stringify({ error: message })}\n`;
}

/** netavark's message for several errors at once (teardown goes on past each one). */
export function joinErrors(messages: readonly string[]): string {
	if (messages.length === 1) return messages[0] as string;
	return `netavark encountered multiple errors:${messages.map((m) => `\n\t- ${m}`).join("")}`;
}

export interface VersionInfo {
	version: string;
	commit: string;
	build_time: string;
	target: string;
}

const RUST_ARCH: Record<string, string> = {
	x64: "x86_64",
	arm64: "aarch64",
	arm: "armv7",
	ppc64: "powerpc64le",
	s390x: "s390x",
	riscv64: "riscv64gc",
};

/** The Rust target triple netavark reports, for this process's architecture. */
export function rustTarget(arch: string = process.arch): string {
	const suffix = arch === "arm" ? "unknown-linux-gnueabihf" : "unknown-linux-gnu";
	return `${RUST_ARCH[arch] ?? arch}-${suffix}`;
}

/** `netavark version`: pretty JSON (two spaces, serde's to_string_pretty) and a newline. */
export function formatVersionOutput(info: VersionInfo): string {
	const doc = {
		version: info.version,
		commit: info.commit,
		build_time: info.build_time,
		target: info.target,
	};
	return `${JSON.stringify(doc, null, 2)}\n`;
}
