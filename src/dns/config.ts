// aardvark-dns 1.4's per-network config file: `<config>/aardvark-dns/<network name>`, written by
// netavark 1.4 (src/dns/aardvark.rs) and read by aardvark 1.4 (src/config/mod.rs). Pure.
//
//   10.89.0.1,fd10:88:a::1[ 8.8.8.8,1.1.1.1]                         gateways[ network DNS servers]
//   <container id> <ipv4>[,<ipv4>…] <ipv6>[,<ipv6>…] <name>[,<alias>…][ <dns server>,…]
//
// Fields are separated by exactly one space and an empty IP list stays an empty field, so a
// container without IPv6 reads `id 10.89.0.2  name` (two spaces). Empty lines are skipped. The
// parser follows aardvark's rules, because aardvark exits (taking every network's DNS with it)
// on the first file it cannot parse: a file this module accepts is one aardvark accepts.
import { UsageError } from "../errors";
import { formatIp, ipFamily, parseIp } from "../ip/address";

/** The search domain netavark reports for DNS networks (and aardvark strips from queries). */
export const DNS_SEARCH_DOMAIN = "dns.podman";

export interface ContainerEntry {
	id: string;
	ipv4: string[];
	ipv6: string[];
	/** The container's name, then its aliases on this network. */
	names: string[];
	/** The container's own upstream resolvers (netavark's `dns_servers`); usually empty. */
	dnsServers: string[];
}

export interface NetworkConfig {
	/** The addresses aardvark binds for this network: the network's gateways. */
	gateways: string[];
	/** The network's upstream resolvers (netavark 1.4's network_dns_servers); usually empty. */
	dnsServers: string[];
	entries: ContainerEntry[];
}

type Kind = "any" | 4 | 6;

function checkIp(text: string, kind: Kind, where: string): string {
	const family = text.includes("%") ? undefined : ipFamily(text);
	if (family === undefined || (kind !== "any" && family !== kind)) {
		const what = kind === "any" ? "IP" : `IPv${kind}`;
		throw new UsageError(`${where}: invalid ${what} address ${JSON.stringify(text)}`);
	}
	return text;
}

function ipList(field: string, kind: Kind, where: string): string[] {
	return field === "" ? [] : field.split(",").map((ip) => checkIp(ip, kind, where));
}

/** Parses one network's file; `what` names it in errors. Throws UsageError where aardvark fails. */
export function parseNetworkConfig(text: string, what = "aardvark-dns config"): NetworkConfig {
	const lines = text.split("\n").filter((l) => l !== "");
	const header = lines[0];
	if (header === undefined) throw new UsageError(`${what}: no bind addresses`);
	const [bind = "", servers] = header.split(" ");
	// aardvark splits the first field on commas and parses every piece, so an empty one fails.
	const gateways = bind.split(",").map((ip) => checkIp(ip, "any", what));
	const dnsServers =
		servers === undefined ? [] : servers.split(",").map((ip) => checkIp(ip, "any", what));
	const entries = lines.slice(1).map((line) => {
		const parts = line.split(" ");
		const where = `${what}: line ${JSON.stringify(line)}`;
		if (parts.length < 4) throw new UsageError(`${where}: too few fields`);
		const [id = "", v4 = "", v6 = "", names = ""] = parts;
		return {
			id,
			ipv4: ipList(v4, 4, where),
			ipv6: ipList(v6, 6, where),
			names: names.split(","),
			// aardvark reads a fifth field only when it is the last one.
			dnsServers: parts.length === 5 ? ipList(parts[4] ?? "", "any", where) : [],
		};
	});
	return { gateways, dnsServers, entries };
}

function formatEntry(e: ContainerEntry): string {
	const servers = e.dnsServers.length > 0 ? ` ${e.dnsServers.join(",")}` : "";
	return `${e.id} ${e.ipv4.join(",")} ${e.ipv6.join(",")} ${e.names.join(",")}${servers}`;
}

/** The file's text, as netavark writes it (every line ends with a newline). */
export function formatNetworkConfig(c: NetworkConfig): string {
	const servers = c.dnsServers.length > 0 ? ` ${c.dnsServers.join(",")}` : "";
	const lines = [`${c.gateways.join(",")}${servers}`, ...c.entries.map(formatEntry)];
	return `${lines.map((l) => `${l}\n`).join("")}`;
}

/** `config` with `entry` as the container's only line (replacing any it had), appended last. */
export function withEntry(config: NetworkConfig, entry: ContainerEntry): NetworkConfig {
	return { ...config, entries: [...withoutEntry(config, entry.id).entries, entry] };
}

/** `config` without the container's lines (aardvark allows several per container). */
export function withoutEntry(config: NetworkConfig, containerId: string): NetworkConfig {
	return { ...config, entries: config.entries.filter((e) => e.id !== containerId) };
}

function checkToken(text: string, what: string): string {
	if (text === "" || /[\s,]/.test(text))
		throw new UsageError(
			`invalid ${what} ${JSON.stringify(text)} for aardvark-dns: empty, or has a space or comma`,
		);
	return text;
}

function canonical(ip: string, kind: Kind, what: string): string {
	return formatIp(parseIp(checkIp(ip, kind, what)));
}

/** The names a container answers to on a DNS network (Docker's `DNSNames`): name, then aliases. */
export function dnsNames(containerName: string, aliases: readonly string[]): string[] {
	return [...new Set([containerName, ...aliases].filter((n) => n !== ""))];
}

export interface EntryInput {
	containerId: string;
	containerName: string;
	aliases: readonly string[];
	ipv4: readonly string[];
	ipv6: readonly string[];
	dnsServers?: readonly string[];
}

/**
 * A container's line from what netavark gets from podman: names are the container name, then
 * the network's aliases (netavark's order, duplicates dropped); IPs in canonical form.
 */
export function containerEntry(input: EntryInput): ContainerEntry {
	const names = dnsNames(input.containerName, input.aliases);
	if (names.length === 0) throw new UsageError("a DNS entry needs a container name or an alias");
	return {
		id: checkToken(input.containerId, "container ID"),
		ipv4: input.ipv4.map((ip) => canonical(ip, 4, "container address")),
		ipv6: input.ipv6.map((ip) => canonical(ip, 6, "container address")),
		names: names.map((n) => checkToken(n, "container name or alias")),
		dnsServers: (input.dnsServers ?? []).map((ip) => canonical(ip, "any", "DNS server")),
	};
}

/** The header fields for a network: its gateways (canonical) and optional upstream servers. */
export function networkHeader(
	gateways: readonly string[],
	dnsServers: readonly string[] = [],
): Pick<NetworkConfig, "gateways" | "dnsServers"> {
	return {
		gateways: gateways.map((ip) => canonical(ip, "any", "gateway")),
		dnsServers: dnsServers.map((ip) => canonical(ip, "any", "DNS server")),
	};
}
