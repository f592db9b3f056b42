// The default network: written on first use, so `podman network ls` and ctrnet agree on it.
import { formatCreated, stableNetworkId } from "./identity";
import { type NetworkDef, PODMAN_DEFAULT_ID } from "./schema";
import { checkNetworkDef } from "./validate";

/**
 * A bridge network `name` on `bridge` with one or more subnets (dual stack), gateways at each
 * subnet's first address, DNS off (as podman's default network), host-local IPAM. Its ID is
 * stable: podman's fixed one for "podman", a hash of the name otherwise.
 */
export function defaultNetworkDef(
	name: string,
	bridge: string,
	subnet: string | readonly string[],
	now?: Date,
): NetworkDef {
	// Checked and defaulted (gateways) as the file is when read back.
	return checkNetworkDef({
		name,
		id: name === "podman" ? PODMAN_DEFAULT_ID : stableNetworkId(name),
		driver: "bridge",
		network_interface: bridge,
		created: formatCreated(now),
		subnets: (typeof subnet === "string" ? [subnet] : subnet).map((s) => ({ subnet: s })),
		ipv6_enabled: false,
		internal: false,
		dns_enabled: false,
		labels: {},
		options: {},
		ipam_options: { driver: "host-local" },
	});
}
