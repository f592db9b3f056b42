// What pasta configured in the container (the host's addresses and default routes, copied), as
// the result ctrnet stores and inspect shows. Pure: the netns is read elsewhere — with rtnetlink
// as root, and from /proc/PID/net/* rootless, where an unprivileged ctrnet cannot enter a
// namespace owned by the container's user namespace but can read the files the kernel shows for
// that process's network namespace.
import { formatIp, ipFamily } from "../ip/address";
import { contains, parseSubnet } from "../ip/cidr";

export interface PastaAddress {
	/** CIDR, e.g. 192.0.2.10/24. */
	cidr: string;
	gateway?: string;
}

export interface PastaAddresses {
	ifname: string;
	mac?: string;
	addrs: PastaAddress[];
}

/** 32 hex digits of /proc/net/if_inet6 and ipv6_route → RFC 5952 text. */
const hexToV6 = (hex: string) => formatIp(Buffer.from(hex, "hex"));

/** /proc/net/route's hex IPv4, in host (little-endian) order: "01FAEE0A" → "10.238.250.1". */
const hexToV4 = (hex: string) => formatIp(Buffer.from(hex, "hex").reverse());

interface ProcNet {
	/** /proc/PID/net/fib_trie */
	fibTrie: string;
	/** /proc/PID/net/route */
	route: string;
	/** /proc/PID/net/if_inet6 */
	ifInet6: string;
	/** /proc/PID/net/ipv6_route */
	ipv6Route: string;
}

/** IPv4 addresses (fib_trie's `/32 host LOCAL`) with the prefix of their connected route. */
function v4Addresses(fibTrie: string): string[] {
	const local = new Set<string>();
	const nets: string[] = [];
	let current = "";
	for (const line of fibTrie.split("\n")) {
		const leaf = /\|-- (\S+)/.exec(line);
		if (leaf) {
			current = leaf[1] as string;
			continue;
		}
		const entry = /^\s+\/(\d+) (\S+) (\S+)/.exec(line);
		if (!entry || !current) continue;
		if (entry[2] === "host" && entry[3] === "LOCAL" && entry[1] === "32") local.add(current);
		if (entry[2] === "link" && entry[3] === "UNICAST") nets.push(`${current}/${entry[1]}`);
	}
	return [...local]
		.filter((a) => !a.startsWith("127."))
		.map((a) => {
			const prefixes = nets
				.filter((n) => contains(parseSubnet(n), a))
				.map((n) => Number(n.split("/")[1]));
			return `${a}/${prefixes.length > 0 ? Math.max(...prefixes) : 32}`;
		});
}

/** Reads what pasta set up from the /proc/PID/net files of a process in the container. */
export function addressesFromProc(p: ProcNet): PastaAddresses {
	let ifname = "";
	let gw4: string | undefined;
	for (const line of p.route.split("\n").slice(1)) {
		const [iface, dst, gw, , , , , mask] = line.trim().split(/\s+/);
		if (!iface || iface === "lo") continue;
		ifname ||= iface;
		if (dst === "00000000" && mask === "00000000" && gw && gw !== "00000000") gw4 ??= hexToV4(gw);
	}
	let gw6: string | undefined;
	for (const line of p.ipv6Route.split("\n")) {
		const f = line.trim().split(/\s+/);
		if (f.length < 10 || f[9] === "lo") continue;
		if (/^0{32}$/.test(f[0] as string) && f[1] === "00" && !/^0{32}$/.test(f[4] as string)) {
			gw6 ??= hexToV6(f[4] as string);
			ifname ||= f[9] as string;
		}
	}
	const addrs: PastaAddress[] = v4Addresses(p.fibTrie).map((cidr) => ({
		cidr,
		...(gw4 ? { gateway: gw4 } : {}),
	}));
	for (const line of p.ifInet6.split("\n")) {
		const [hex, , plen, scope, , iface] = line.trim().split(/\s+/);
		// Global scope only: a link-local address is not one the host's peers could use.
		if (!hex || !iface || iface === "lo" || scope !== "00") continue;
		ifname ||= iface;
		addrs.push({
			cidr: `${hexToV6(hex)}/${Number.parseInt(plen as string, 16)}`,
			...(gw6 ? { gateway: gw6 } : {}),
		});
	}
	return { ifname, addrs };
}

/**
 * The stored result, in CNI 1.0's shape so that inspect reads it like any network's: the
 * interface pasta made (in the container's namespace), its addresses, and the DNS forwarder
 * address of each family the container has (podman keeps only those too).
 */
export function pastaResult(a: PastaAddresses, dnsForward: readonly string[], sandbox: string) {
	const families = new Set(a.addrs.map((x) => ipFamily(x.cidr.split("/")[0] as string)));
	return {
		cniVersion: "1.0.0",
		interfaces: [{ name: a.ifname, ...(a.mac ? { mac: a.mac } : {}), sandbox }],
		ips: a.addrs.map((x) => ({
			address: x.cidr,
			...(x.gateway ? { gateway: x.gateway } : {}),
			interface: 0,
		})),
		dns: { nameservers: dnsForward.filter((ip) => families.has(ipFamily(ip))) },
	};
}
