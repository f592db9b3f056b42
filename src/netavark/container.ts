// Facts read from the container's netns when a decision or an error message needs them (never on
// the success path of a plain setup or teardown).
import { ERRNO, SysError } from "../../ffi/errno";
import { formatIp, parseIp } from "../ip/address";
import { findLink, listAddresses, withNetlink } from "../netlink";

/**
 * Whether an address belongs to the container already (an interface of another network in its
 * netns). Podman's `network connect` repeats the container's published ports for the new
 * network; those already forwarded to the container through another network stay as they are.
 * Looked up on the first question, once per run.
 */
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

/** Whether the container's netns has an interface of that name (false when it is gone). */
export function hasInterface(netnsPath: string, ifname: string): boolean {
	try {
		return withNetlink(netnsPath, (nl) => findLink(nl, ifname) !== undefined);
	} catch (e) {
		if (e instanceof SysError && (e.errno === ERRNO.ENOENT || e.errno === ERRNO.EINVAL)) {
			return false;
		}
		throw e;
	}
}
