// What podman 4.3 writes on netavark's stdin (containers/common v0.50.1 NetworkOptions plus
// network_info; netavark 1.4's types.rs): parsed, checked and normalised. Fields neither knows
// are ignored, as serde ignores them. Pure.
import * as z from "zod/mini";
import { UsageError } from "../errors";
import { formatMac } from "../ip/address";
import { check, lazySchema } from "../json";
import { IPAM_DRIVERS, type NetworkDef, NetworkDefSchema, orNull } from "../netconf/schema";
import { canonicalIp, checkNetworkDef, parseJsonText } from "../netconf/validate";

export const PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

const port = () => z.int().check(z.minimum(0), z.maximum(65535));

/** A port mapping as podman writes it (common's types.PortMapping). */
const PortMappingSchema = lazySchema(() =>
	z.object({
		/** "" means every address. */
		host_ip: z._default(z.string(), ""),
		container_port: port(),
		host_port: port(),
		/** How many consecutive ports, from host_port and container_port; 1 for a single port. */
		range: z._default(port(), 1),
		/** "tcp", "udp", "sctp", or several joined by commas. */
		protocol: z._default(z.string(), "tcp"),
	}),
);
type RawPortMapping = z.infer<ReturnType<typeof PortMappingSchema>>;

const PerNetworkSchema = lazySchema(() =>
	z.object({
		static_ips: orNull(z.array(z.string())),
		aliases: orNull(z.array(z.string())),
		static_mac: orNull(z.string()),
		interface_name: z.string(),
	}),
);

/** podman's stdin; fields neither podman nor netavark 1.4 knows are dropped, as serde ignores them. */
const NetworkOptionsSchema = lazySchema(() =>
	z.object({
		container_id: z.string(),
		container_name: z.string(),
		port_mappings: orNull(z.array(PortMappingSchema())),
		networks: z.record(z.string(), PerNetworkSchema()),
		network_info: z.record(z.string(), NetworkDefSchema()),
		dns_servers: orNull(z.array(z.string())),
	}),
);

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

const LOAD_FAILED = "failed to load network options: ";

function fail(reason: string): never {
	throw new UsageError(`${LOAD_FAILED}${reason}`);
}

/**
 * The options JSON -> checked, normalised options; a one-line UsageError otherwise, prefixed as
 * netavark prefixes it ("failed to load network options: ...").
 */
export function parseNetworkOptions(text: string): NetworkOptions {
	const value = parseJsonText(text, LOAD_FAILED);
	const checked = check(NetworkOptionsSchema(), value);
	if (!checked.ok) fail(checked.error);
	const raw = checked.data;
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
		if (ipam && !(IPAM_DRIVERS as readonly string[]).includes(ipam)) {
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

/** The `network_info` entry `name` with its `networks` options, which netavark requires. */
export function attachment(opts: NetworkOptions, name: string): NetworkAttachment {
	const options = opts.networks[name];
	if (!options) throw new UsageError(`network options for network ${name} not found`);
	if (!options.interface_name) throw new UsageError("no container interface name given");
	return { name, network: opts.network_info[name] as NetworkDef, options };
}

/** The networks to attach: every `network_info` entry, sorted by name (netavark's walk). */
export function attachments(opts: NetworkOptions): NetworkAttachment[] {
	return Object.keys(opts.network_info)
		.sort()
		.map((name) => attachment(opts, name));
}
