// The varying part of the firewall: which set and map elements a network and a container's
// published ports stand for, and the nft commands that add or remove them. Pure.
//
// nftables 1.0.6 has no `destroy`, and deleting an element that is not there fails the whole
// transaction; so a removal is written as `add` then `delete` of the same elements in one batch:
// the add makes each element exist (a no-op when it does), the delete removes it. The batch only
// fails when a map key now holds someone else's data (the add clashes): see apply.ts.
import { UsageError } from "../errors";
import { formatIp, ipFamily, parseIp } from "../ip/address";
import { formatSubnet, parseSubnet } from "../ip/cidr";
import { PROTOCOLS } from "../ports/schema";
import { TABLE } from "./ruleset";
import type { FwNetwork, FwPort } from "./types";

/** One set or map element: its key (all a delete needs), and what an add also carries. */
export interface Element {
	set: string;
	key: string;
	data?: string;
	comment?: string;
}

// Interface names are written into nft strings: no quote, backslash, blank, '/' or ':' (the
// kernel refuses the last ones anyway), at most 15 bytes.
const IFNAME = /^[^\s"\\/:]{1,15}$/;

/** Printable ASCII without quotes or backslashes, short: safe inside an nft comment string. */
export function commentText(text: string): string {
	return text.replace(/[^\x20-\x7e]|["\\]/g, "_").slice(0, 100);
}

const quote = (ifname: string) => `"${ifname}"`;

function address(text: string, what: string): { family: 4 | 6; text: string } {
	const family = ipFamily(text);
	if (!family) throw new UsageError(`firewall: invalid ${what} ${JSON.stringify(text)}`);
	return { family, text: formatIp(parseIp(text)) };
}

/** The elements that make a network known to the firewall (the same for each of its containers). */
export function networkElements(net: FwNetwork): Element[] {
	if (!IFNAME.test(net.bridge)) {
		throw new UsageError(`firewall: invalid bridge name ${JSON.stringify(net.bridge)}`);
	}
	const comment = commentText(`network ${net.name}`);
	const br = quote(net.bridge);
	const out: Element[] = [
		{ set: "bridges", key: br, comment },
		{ set: "within_network", key: `${br} . ${br}`, data: "jump allow", comment },
	];
	if (net.internal) out.push({ set: "internal_bridges", key: br, comment });
	if (net.isolate) out.push({ set: "isolated_bridges", key: br, comment });
	for (const cidr of net.subnets) {
		let subnet: string;
		let family: 4 | 6;
		try {
			const s = parseSubnet(cidr);
			subnet = formatSubnet(s);
			family = s.family;
		} catch {
			throw new UsageError(
				`firewall: invalid subnet ${JSON.stringify(cidr)} of network ${net.name}`,
			);
		}
		// An internal network has no way out: nothing to masquerade.
		if (net.internal) continue;
		out.push({ set: `subnets${family}`, key: subnet, comment });
		out.push({ set: `same_subnet${family}`, key: `${subnet} . ${subnet}`, comment });
	}
	if (net.dnsRedirect && net.dnsRedirect.port !== 53) {
		// The gateway is a local address: published_ports sees the query, like a published port.
		for (const gw of net.dnsRedirect.gateways) {
			const ip = address(gw, "gateway");
			out.push({
				set: `ports${ip.family}`,
				key: `${ip.text} . udp . 53`,
				data: `${ip.text} . ${net.dnsRedirect.port}`,
				comment: commentText(`aardvark-dns of network ${net.name}`),
			});
		}
	}
	return out;
}

/**
 * The map elements of a container's published ports on one network. An internal network
 * publishes nothing (netavark skips port forwarding there too), so its ports are ignored: a
 * container on several networks passes the same ports to each.
 */
export function portElements(net: FwNetwork, ports: readonly FwPort[], label?: string): Element[] {
	if (net.internal) return [];
	const comment = commentText(label ? `${label} on network ${net.name}` : `network ${net.name}`);
	const byKey = new Map<string, Element>();
	for (const p of ports) {
		const ctr = address(p.containerIP, "container address");
		const wildcard = p.hostIP === "" || p.hostIP === "0.0.0.0" || p.hostIP === "::";
		const host = wildcard ? undefined : address(p.hostIP, "host address");
		const hostFamily = host?.family ?? (p.hostIP ? ipFamily(p.hostIP) : ctr.family);
		if (hostFamily !== ctr.family) {
			throw new UsageError(
				`firewall: host address ${p.hostIP} and container address ${p.containerIP} differ in family`,
			);
		}
		if (host?.text === "::1") {
			throw new UsageError(
				"firewall: a port cannot be published on [::1] by the kernel (IPv6 has no route_localnet: the container's reply to ::1 is dropped); it needs a userspace forwarder",
			);
		}
		for (const n of [p.hostPort, p.containerPort]) {
			if (!Number.isInteger(n) || n < 1 || n > 65535) {
				throw new UsageError(`firewall: invalid port ${n}`);
			}
		}
		if (!PROTOCOLS.includes(p.protocol)) {
			throw new UsageError(`firewall: invalid protocol ${JSON.stringify(p.protocol)}`);
		}
		const set = `ports${ctr.family}${host ? "" : "_any"}`;
		const key = `${host ? `${host.text} . ` : ""}${p.protocol} . ${p.hostPort}`;
		const data = `${ctr.text} . ${p.containerPort}`;
		const id = `${set} ${key}`;
		const seen = byKey.get(id);
		if (seen && seen.data !== data) {
			throw new UsageError(
				`firewall: ${p.protocol} port ${p.hostPort} on ${p.hostIP || "every address"} is published twice (to ${seen.data} and ${data})`,
			);
		}
		byKey.set(id, { set, key, data, comment });
	}
	return [...byKey.values()];
}

function grouped(elements: readonly Element[]): Map<string, Element[]> {
	const bySet = new Map<string, Element[]>();
	for (const e of elements) {
		const list = bySet.get(e.set) ?? [];
		list.push(e);
		bySet.set(e.set, list);
	}
	return bySet;
}

function full(e: Element): string {
	const comment = e.comment ? ` comment "${e.comment}"` : "";
	return `${e.key}${comment}${e.data ? ` : ${e.data}` : ""}`;
}

/** `add element` commands, one per set. */
export function addCommands(elements: readonly Element[]): string {
	return [...grouped(elements)]
		.map(([set, list]) => `add element ${TABLE} ${set} { ${list.map(full).join(", ")} }`)
		.join("\n");
}

/** Add-then-delete per set: removes the elements whether or not they are there (see top). */
export function removeCommands(elements: readonly Element[]): string {
	return [...grouped(elements)]
		.map(
			([set, list]) =>
				`add element ${TABLE} ${set} { ${list.map(full).join(", ")} }\n` +
				`delete element ${TABLE} ${set} { ${list.map((e) => e.key).join(", ")} }`,
		)
		.join("\n");
}

/**
 * One container joins a network: the network's elements (again: adding them is a no-op when
 * earlier containers did) and its published ports. `container` only labels the port elements.
 */
export function setupCommands(
	net: FwNetwork,
	ports: readonly FwPort[],
	opts: { container?: string } = {},
): string {
	return addCommands([...networkElements(net), ...portElements(net, ports, opts.container)]);
}

/**
 * What goes when one container leaves a network: exactly its port elements, and with the last
 * container of the network the network's own elements too.
 */
export function teardownElements(
	net: FwNetwork,
	ports: readonly FwPort[],
	opts: { lastOnNetwork: boolean },
): Element[] {
	const elements = portElements(net, ports);
	if (opts.lastOnNetwork) elements.push(...networkElements(net));
	return elements;
}

/** One container leaves a network (teardownElements). Idempotent. */
export function teardownCommands(
	net: FwNetwork,
	ports: readonly FwPort[],
	opts: { lastOnNetwork: boolean },
): string {
	return removeCommands(teardownElements(net, ports, opts));
}

/** A network with no container left (gc): its own elements go. Idempotent. */
export function networkTeardownCommands(net: FwNetwork): string {
	return removeCommands(networkElements(net));
}
