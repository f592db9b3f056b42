// Names and MACs the data plane makes up.
import { formatMac } from "../ip/address";

//
// The host end of a container's veth is named after what identifies the attachment — the
// container's netns path and its interface name — so a teardown, or gc after a crash, can
// find it again: "veth" + the first 11 hex digits of a SHA-256 (15 characters, the kernel's
// limit). Two live attachments differ in path or name, and 44 bits of hash make an accidental
// clash between them unlikely; when the name is taken anyway (a clash, or a leftover of a
// crashed run for a netns path that was reused) the next `attempt` salts the hash.

const VETH_PREFIX = "veth";
const HASH_CHARS = 11;

export function hostVethName(netnsPath: string, ifname: string, attempt = 0): string {
	const h = new Bun.CryptoHasher("sha256");
	h.update(attempt === 0 ? `${netnsPath}\0${ifname}` : `${netnsPath}\0${ifname}\0${attempt}`);
	return VETH_PREFIX + h.digest("hex").slice(0, HASH_CHARS);
}

/**
 * A random unicast, locally administered MAC (what the kernel's eth_random_addr gives). Set
 * explicitly on a bridge, it stays put: a bridge left to itself takes the lowest MAC of its
 * ports and changes it as containers come and go, which leaves stale gateway entries in the
 * containers' neighbour tables.
 */
export function randomMac(): string {
	const b = crypto.getRandomValues(new Uint8Array(6));
	b[0] = ((b[0] as number) & 0xfe) | 0x02;
	return formatMac(b);
}
