// What a container on DNS networks is told about name resolution, as netavark 1.4's per-network
// StatusBlock fields (bridge.rs): a DNS network reports its gateways as dns_server_ips and
// "dns.podman" as the search domain; a network without DNS reports the container's own
// dns_servers, if it was given any. ctrnet writes no resolv.conf itself (DESIGN 12): inspect shows
// this, per network, so a runtime can. Pure.
import { DNS_SEARCH_DOMAIN } from "./config";

export interface NetworkDnsStatus {
	dns_server_ips: string[];
	dns_search_domains: string[];
}

/**
 * One network's fields. DNS on without a gateway reports no server but still the search domain,
 * as netavark does; `containerDnsServers` count only where netavark reports them (bridge networks).
 */
export function networkDnsStatus(network: {
	dnsEnabled: boolean;
	gateways: readonly string[];
	containerDnsServers?: readonly string[];
}): NetworkDnsStatus {
	if (network.dnsEnabled) {
		return { dns_server_ips: [...network.gateways], dns_search_domains: [DNS_SEARCH_DOMAIN] };
	}
	return { dns_server_ips: [...(network.containerDnsServers ?? [])], dns_search_domains: [] };
}
