// Whether an address belongs to the container already (an interface of another network in its
// netns). Podman's `network connect` repeats the container's published ports for the new
// network; those already forwarded to the container through another network stay as they are.
// Looked up only when a port clashes, once per run.
import { formatIp, parseIp } from "../ip/address";
import { listAddresses, withNetlink } from "../netlink";

export function containerAddressOwner(netnsPath: string): (ip: string) => boolean {
	let own: Set<string> | undefined;
	return (ip) => {
		own ??= new Set(withNetlink(netnsPath, (nl) => listAddresses(nl).map((a) => a.address)));
		try {
			return own.has(formatIp(parseIp(ip)));
		} catch {
			return false;
		}
	};
}
