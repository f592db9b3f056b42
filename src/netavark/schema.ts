// What podman 4.3 writes on netavark's stdin (containers/common v0.50.1 NetworkOptions plus
// network_info; netavark 1.4's types.rs): parsed, checked and normalised. Fields neither knows
// are ignored, as serde ignores them. Pure.
import { UsageError } from "../errors";
import { formatMac } from "../ip/address";
import type { NetworkDef, RawNetworkDef } from "../netconf/schema";
import { canonicalIp, checkNetworkDef } from "../netconf/validate";
import {
	array,
	int,
	object,
	optional,
	rawNetworkDef,
	record,
	ShapeError,
	string,
	strings,
} from "./shape";

export const PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

type Path = readonly (string | number)[];

/** A port mapping as podman writes it (common's types.PortMapping). */
interface RawPortMapping {
	/** "" means every address. */
	host_ip: string;
	container_port: number;
	host_port: number;
	/** How many consecutive ports, from host_port and container_port; 1 for a single port. */
	range: number;
	/** "tcp", "udp", "sctp", or several joined by commas. */
	protocol: string;
}

interface RawPerNetwork {
	static_ips?: string[];
	aliases?: string[];
	static_mac?: string;
	interface_name: string;
}

interface RawNetworkOptions {
	container_id: string;
	container_name: string;
	port_mappings?: RawPortMapping[];
	networks: Record<string, RawPerNetwork>;
	network_info: Record<string, RawNetworkDef>;
	dns_servers?: string[];
}

const port = (v: unknown, path: Path) => int(v, path, 0, 65535);

function rawPortMapping(v: unknown, path: Path): RawPortMapping {
	const o = object(v, path);
	return {
		host_ip: optional(o.host_ip, [...path, "host_ip"], string) ?? "",
		container_port: port(o.container_port, [...path, "container_port"]),
		host_port: port(o.host_port, [...path, "host_port"]),
		range: optional(o.range, [...path, "range"], port) ?? 1,
		protocol: optional(o.protocol, [...path, "protocol"], string) ?? "tcp",
	};
}

function rawPerNetwork(v: unknown, path: Path): RawPerNetwork {
	const o = object(v, path);
	const out: RawPerNetwork = {
		interface_name: string(o.interface_name, [...path, "interface_name"]),
	};
	const ips = optional(o.static_ips, [...path, "static_ips"], strings);
	const aliases = optional(o.aliases, [...path, "aliases"], strings);
	const mac = optional(o.static_mac, [...path, "static_mac"], string);
	if (ips) out.static_ips = ips;
	if (aliases) out.aliases = aliases;
	if (mac !== undefined) out.static_mac = mac;
	return out;
}

function rawNetworkOptions(v: unknown): RawNetworkOptions {
	const o = object(v, []);
	return {
		container_id: string(o.container_id, ["container_id"]),
		container_name: string(o.container_name, ["container_name"]),
		port_mappings: optional(o.port_mappings, ["port_mappings"], array(rawPortMapping)),
		networks: record(rawPerNetwork)(o.networks, ["networks"]),
		network_info: record(rawNetworkDef)(o.network_info, ["network_info"]),
		dns_servers: optional(o.dns_servers, ["dns_servers"], strings),
	};
}

export interface PortMapping {
	/** "" for every address, else a canonical IP literal. */
	host_ip: string;
	container_port: number;
	host_port: number;
	range: number;
	protocols: Protocol[];
}

export interface PerNetworkOptions {
	/** Podman's IPAM choice, canonical text; empty for IPAM none. */
	static_ips: string[];
	aliases: string[];
	/** Lower-case colon form, or undefined for a random MAC. */
	static_mac?: string;
	interface_name: string;
}

export interface NetworkOptions {
	container_id: string;
	container_name: string;
	port_mappings: PortMapping[];
	networks: Record<string, PerNetworkOptions>;
	network_info: Record<string, NetworkDef>;
	/** Upstream resolvers for aardvark-dns (podman 4.3 never sends them; netavark 1.4 reads them). */
	dns_servers: string[];
}

/** One network to attach: its definition and the container's options for it. */
export interface NetworkAttachment {
	name: string;
	network: NetworkDef;
	options: PerNetworkOptions;
}

/** netavark's MAC parser: six hex bytes separated by ':' or '-'. */
export function parseStaticMac(text: string): string {
	const parts = text.split(/[:-]/);
	if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) {
		throw new UsageError(`invalid mac address: ${text}`);
	}
	return formatMac(Uint8Array.from(parts.map((p) => Number.parseInt(p, 16))));
}

function parseProtocols(text: string): Protocol[] {
	const out: Protocol[] = [];
	for (const p of text.split(",")) {
		if (!(PROTOCOLS as readonly string[]).includes(p)) {
			throw new UsageError(`unknown port protocol ${JSON.stringify(p)}`);
		}
		out.push(p as Protocol);
	}
	return out;
}

function checkPort(m: RawPortMapping): PortMapping {
	const range = m.range === 0 ? 1 : m.range;
	if (m.host_port + range - 1 > 65535 || m.container_port + range - 1 > 65535) {
		throw new UsageError(
			`port range ${m.host_port}:${m.container_port} (${range} ports) goes past 65535`,
		);
	}
	return {
		host_ip: m.host_ip === "" ? "" : canonicalIp(m.host_ip, "host ip"),
		container_port: m.container_port,
		host_port: m.host_port,
		range,
		protocols: parseProtocols(m.protocol),
	};
}

function fail(reason: string): never {
	throw new UsageError(`failed to load network options: ${reason}`);
}

/**
 * The options JSON -> checked, normalised options; a one-line UsageError otherwise, prefixed as
 * netavark prefixes it ("failed to load network options: ...").
 */
export function parseNetworkOptions(text: string): NetworkOptions {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (e) {
		fail(`malformed JSON: ${(e as Error).message.replace(/\s+/g, " ")}`);
	}
	let raw: RawNetworkOptions;
	try {
		raw = rawNetworkOptions(value);
	} catch (e) {
		if (!(e instanceof ShapeError)) throw e;
		fail(e.message);
	}
	const networks: Record<string, PerNetworkOptions> = {};
	for (const [name, o] of Object.entries(raw.networks)) {
		networks[name] = {
			static_ips: (o.static_ips ?? []).map((ip) => canonicalIp(ip, "static ip")),
			aliases: o.aliases ?? [],
			static_mac: o.static_mac ? parseStaticMac(o.static_mac) : undefined,
			interface_name: o.interface_name,
		};
	}
	const info: Record<string, NetworkDef> = {};
	for (const [name, def] of Object.entries(raw.network_info)) {
		// netavark's words (its IPAM check fails with an io::Error).
		const ipam = def.ipam_options?.driver;
		if (ipam === "dhcp") throw new UsageError("IO error: dhcp ipam driver is not yet supported");
		if (ipam && ipam !== "host-local" && ipam !== "none") {
			throw new UsageError(`IO error: unsupported ipam driver ${ipam}`);
		}
		try {
			info[name] = checkNetworkDef(def);
		} catch (e) {
			throw new UsageError(`network ${name}: ${(e as Error).message}`);
		}
	}
	return {
		container_id: raw.container_id,
		container_name: raw.container_name,
		port_mappings: (raw.port_mappings ?? []).map(checkPort),
		networks,
		network_info: info,
		dns_servers: (raw.dns_servers ?? []).map((ip) => canonicalIp(ip, "dns server")),
	};
}

/**
 * The networks to attach, sorted by name: every `network_info` entry with its `networks`
 * options (netavark walks network_info the same way and needs the options of each).
 */
export function attachments(opts: NetworkOptions): NetworkAttachment[] {
	return Object.keys(opts.network_info)
		.sort()
		.map((name) => {
			const options = opts.networks[name];
			if (!options) throw new UsageError(`network options for network ${name} not found`);
			if (!options.interface_name) throw new UsageError("no container interface name given");
			return { name, network: opts.network_info[name] as NetworkDef, options };
		});
}
