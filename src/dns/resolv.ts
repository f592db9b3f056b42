// What a container on DNS networks is told about name resolution. Pure.
// - netavark 1.4's per-network StatusBlock fields (bridge.rs): a DNS network reports its gateways
//   as dns_server_ips and "dns.podman" as the search domain; a network without DNS reports the
//   container's own dns_servers, if it was given any.
// - podman 4.3's resolv.conf (libpod generateResolvConf): servers the user gave win over
//   everything; otherwise the networks' servers and search domains, and the host's servers are
//   kept after them. ctrnet writes no resolv.conf itself (DESIGN 12): inspect shows this, per
//   network, so a runtime can.
import { DNS_SEARCH_DOMAIN } from "./config";

export interface NetworkDnsStatus {
	dns_server_ips: string[];
	dns_search_domains: string[];
}

export function networkDnsStatus(network: {
	dnsEnabled: boolean;
	gateways: readonly string[];
	containerDnsServers?: readonly string[];
}): NetworkDnsStatus {
	if (network.dnsEnabled && network.gateways.length > 0) {
		return { dns_server_ips: [...network.gateways], dns_search_domains: [DNS_SEARCH_DOMAIN] };
	}
	return { dns_server_ips: [...(network.containerDnsServers ?? [])], dns_search_domains: [] };
}

export interface ResolvConf {
	nameservers: string[];
	search: string[];
	options: string[];
	/** Append the host's nameservers after these (podman does when the user gave none). */
	keepHostServers: boolean;
}

export interface UserDns {
	/** --dns (containers.conf dns_servers first, then the container's). */
	servers?: readonly string[];
	/** --dns-search. */
	search?: readonly string[];
	/** --dns-option. */
	options?: readonly string[];
}

const unique = (xs: readonly string[]) => [...new Set(xs)];

/** The resolv.conf of a container whose networks reported `statuses` (podman 4.3's rules). */
export function containerResolvConf(
	statuses: readonly NetworkDnsStatus[],
	user: UserDns = {},
): ResolvConf {
	const userServers = user.servers ?? [];
	const fromNetworks = userServers.length === 0;
	const search =
		(user.search ?? []).length > 0
			? [...(user.search ?? [])]
			: fromNetworks
				? unique(statuses.flatMap((s) => s.dns_search_domains))
				: [];
	return {
		nameservers: fromNetworks
			? unique(statuses.flatMap((s) => s.dns_server_ips))
			: [...userServers],
		search,
		options: [...(user.options ?? [])],
		keepHostServers: fromNetworks,
	};
}
