// The conflists ctrnet writes: podman v2's shape (libpod/network/netconflist.go), so podman, cnitool
// and ctrnet read each other's files. Pure.

export const CONFLIST_VERSION = "0.4.0";
export const DNS_DOMAIN = "dns.podman";

export interface IpamRange {
	subnet: string;
	gateway?: string;
	rangeStart?: string;
	rangeEnd?: string;
}

export interface BridgeSpec {
	name: string;
	bridge: string;
	/** One entry per address family, in the order host-local should use them. */
	ranges: IpamRange[];
	/** false: no gateway on the bridge, no masquerade, no default route (--internal). */
	gateway: boolean;
	dnsname: boolean;
}

export function bridgeConflist(spec: BridgeSpec): Record<string, unknown> {
	const routes = spec.gateway
		? spec.ranges.map((r) => ({ dst: r.subnet.includes(":") ? "::/0" : "0.0.0.0/0" }))
		: [];
	const ipam: Record<string, unknown> = { type: "host-local" };
	if (routes.length) ipam.routes = routes;
	ipam.ranges = spec.ranges.map((r) => [r]);
	const plugins: Record<string, unknown>[] = [
		{
			type: "bridge",
			bridge: spec.bridge,
			isGateway: spec.gateway,
			ipMasq: spec.gateway,
			hairpinMode: true,
			ipam,
		},
		{ type: "portmap", capabilities: { portMappings: true } },
		{ type: "firewall", backend: "" },
		{ type: "tuning" },
	];
	if (spec.dnsname) {
		plugins.push({ type: "dnsname", domainName: DNS_DOMAIN, capabilities: { aliases: true } });
	}
	return { cniVersion: CONFLIST_VERSION, name: spec.name, plugins };
}

/** macvlan on a host interface: DHCP unless a subnet was given (then host-local on it). */
export function macvlanConflist(
	name: string,
	parent: string,
	range: IpamRange | undefined,
): Record<string, unknown> {
	const ipam = range
		? {
				type: "host-local",
				routes: [{ dst: range.subnet.includes(":") ? "::/0" : "0.0.0.0/0" }],
				ranges: [[range]],
			}
		: { type: "dhcp" };
	return {
		cniVersion: CONFLIST_VERSION,
		name,
		plugins: [{ type: "macvlan", master: parent, ipam }],
	};
}

/** podman writes its conflists with json.MarshalIndent(…, "", "   "). */
export function conflistText(conflist: Record<string, unknown>): string {
	return `${JSON.stringify(conflist, null, 3)}\n`;
}

/** The subnets a conflist's IPAM hands out (host-local `ranges` and the older `subnet`). */
export function conflistSubnets(plugins: readonly Record<string, unknown>[]): string[] {
	const out: string[] = [];
	for (const p of plugins) {
		const ipam = p.ipam as { subnet?: unknown; ranges?: unknown } | undefined;
		if (!ipam || typeof ipam !== "object") continue;
		if (typeof ipam.subnet === "string") out.push(ipam.subnet);
		if (Array.isArray(ipam.ranges)) {
			for (const set of ipam.ranges) {
				if (!Array.isArray(set)) continue;
				for (const r of set) {
					if (r && typeof r === "object" && typeof (r as IpamRange).subnet === "string") {
						out.push((r as IpamRange).subnet);
					}
				}
			}
		}
	}
	return out;
}

/** The bridge device a conflist uses (the bridge plugin's default is cni0). */
export function conflistBridge(plugins: readonly Record<string, unknown>[]): string | undefined {
	const b = plugins.find((p) => p.type === "bridge");
	if (!b) return undefined;
	return typeof b.bridge === "string" && b.bridge ? b.bridge : "cni0";
}
