// What network definitions need from the host, through src/netlink (never `ip`): its networks
// (addresses and routes, which a new subnet must not overlap), its link names, and deleting a
// bridge. Loaded lazily: the netlink layer pulls in the ffi.

import { parseSubnet, type Subnet } from "../ip/cidr";
import type { HostView } from "./plan";

export async function hostView(): Promise<HostView> {
	const nl = await import("../netlink");
	const networks: { subnet: Subnet; ifname?: string }[] = [];
	const add = (cidr: string, ifname?: string) => {
		try {
			const s = parseSubnet(cidr);
			// The default route overlaps everything, and loopback never carries a container network.
			if (s.prefixLen > 0 && ifname !== "lo") networks.push({ subnet: s, ifname });
		} catch {
			// Not an address ctrnet could allocate from.
		}
	};
	for (const a of nl.hostAddresses()) add(`${a.address}/${a.prefixLen}`, a.ifname);
	for (const r of nl.hostRoutes()) add(r.dst, r.ifname);
	const links = nl.withNetlink(undefined, (s) => nl.listLinks(s).map((l) => l.name));
	return { networks, links };
}

export async function linkNames(): Promise<string[]> {
	const nl = await import("../netlink");
	return nl.withNetlink(undefined, (s) => nl.listLinks(s).map((l) => l.name));
}

/** Deletes a link of the host; false when it did not exist. */
export async function deleteHostLink(name: string): Promise<boolean> {
	const nl = await import("../netlink");
	return nl.withNetlink(undefined, (s) => {
		if (!nl.findLink(s, name)) return false;
		nl.deleteLink(s, name);
		return true;
	});
}
