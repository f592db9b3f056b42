// Podman's port mappings -> the native firewall's, per network. Pure.
//
// netavark 1.4 writes each container's DNAT rules once per bridge network it joins, so with two
// networks the first matching rule (the first network set up) wins. ctrnet's firewall maps each
// host (address, protocol, port) to exactly one container address, so the ports of one address
// family ride on one network: the first non-internal bridge network (by name) on which the
// container has an address of that family. Setup and teardown decide the same from the same JSON.
import type { PortMapping as FwMapping } from "../ports/schema";
import type { PortMapping } from "./schema";

/**
 * Each range and protocol list spelt out: one entry per host port and protocol, numbered by the
 * mapping it came from (so a range can be written as one rule again).
 */
export function expandPorts(mappings: readonly PortMapping[]): FwMapping[] {
	const out: FwMapping[] = [];
	for (const [mapping, m] of mappings.entries()) {
		for (const protocol of m.protocols) {
			for (let i = 0; i < m.range; i++) {
				out.push({
					hostIP: m.host_ip,
					hostPort: m.host_port + i,
					containerPort: m.container_port + i,
					protocol,
					mapping,
				});
			}
		}
	}
	return out;
}

export interface PortCandidate {
	name: string;
	/** bridge, not internal: the only kind whose ports the host firewall forwards. */
	eligible: boolean;
	/** The container's addresses on it (bare IPs or CIDRs). */
	addresses: readonly string[];
}

const hasFamily = (addresses: readonly string[], v6: boolean) =>
	addresses.some((a) => a.includes(":") === v6);

/**
 * Which network carries which ports: name -> its share of `ports` (every network of `networks`
 * gets an entry, most of them empty). A mapping for every host address ("") is split by family
 * when its two families ride on different networks ("0.0.0.0" / "::" then say which half).
 */
export function portsByNetwork(
	networks: readonly PortCandidate[],
	ports: readonly FwMapping[],
): Map<string, FwMapping[]> {
	const sorted = [...networks].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	const carrier = (v6: boolean) =>
		sorted.find((n) => n.eligible && hasFamily(n.addresses, v6))?.name;
	const v4 = carrier(false);
	const v6 = carrier(true);
	const out = new Map<string, FwMapping[]>(networks.map((n) => [n.name, []]));
	const give = (name: string | undefined, p: FwMapping) => {
		if (name !== undefined) out.get(name)?.push(p);
	};
	for (const p of ports) {
		if (p.hostIP !== "") {
			give(p.hostIP.includes(":") ? v6 : v4, p);
		} else if (v4 === v6) {
			give(v4, p);
		} else {
			give(v4, { ...p, hostIP: "0.0.0.0" });
			give(v6, { ...p, hostIP: "::" });
		}
	}
	return out;
}
