// A change to container DNS: one container added to or removed from one network's aardvark
// file, and what a network's file becomes after its changes. Pure.
import * as z from "zod/mini";
import { NotFoundError, UsageError } from "../errors";
import { decode, lazySchema } from "../json";
import {
	containerEntry,
	type NetworkConfig,
	networkHeader,
	withEntry,
	withoutEntry,
} from "./config";

const strings = () => z._default(z.array(z.string()), []);

function buildSchema() {
	const network = z.object({
		name: z.string(),
		/** The network's gateway IPs: the addresses aardvark binds (and containers ask). */
		gateways: strings(),
		/** The network's own upstream resolvers; absent keeps what the file has. */
		dnsServers: z.optional(z.array(z.string())),
	});
	const add = z.object({
		action: z.literal("add"),
		network,
		containerId: z.string(),
		containerName: z.string(),
		aliases: strings(),
		ipv4: strings(),
		ipv6: strings(),
		/** The container's own upstream resolvers (netavark's top-level dns_servers). */
		dnsServers: strings(),
	});
	const remove = z.object({
		action: z.literal("remove"),
		network: z.object({ name: z.string() }),
		containerId: z.string(),
	});
	/** netavark's `update NETWORK --network-dns-servers …`: the network's upstream resolvers. */
	const servers = z.object({
		action: z.literal("servers"),
		network: z.object({ name: z.string(), dnsServers: z.array(z.string()) }),
	});
	return z.discriminatedUnion("action", [add, remove, servers]);
}

const changesSchema = lazySchema(() => z.array(buildSchema()));

export type DnsChange = z.infer<ReturnType<typeof buildSchema>>;
export type DnsChangeInput = z.input<ReturnType<typeof buildSchema>>;

/** Checked changes, or a UsageError naming the first bad field. */
export function parseDnsChanges(value: unknown): DnsChange[] {
	return decode(changesSchema(), Array.isArray(value) ? value : [value], "invalid DNS change");
}

/** A network name that can be a file in aardvark's directory (`reserved`: its pid file). */
export function checkNetworkFileName(name: string, reserved: readonly string[]): string {
	if (
		name === "" ||
		name === "." ||
		name === ".." ||
		reserved.includes(name) ||
		/[/\0\n]/.test(name) ||
		Buffer.byteLength(name) > 255
	) {
		throw new UsageError(`network name ${JSON.stringify(name)} cannot be an aardvark-dns file`);
	}
	return name;
}

/**
 * What one network's file becomes after `changes` (all for that network, in order): null when
 * no container is left (the file goes, as netavark removes it). An add replaces the container's
 * line (a repeated setup does not duplicate it) and writes the header from the network as it is
 * now. A network without a gateway gets no DNS: aardvark would have no address to bind, and a
 * file with an empty first line makes it fail on every network.
 */
export function nextNetworkConfig(
	current: NetworkConfig | null,
	changes: readonly DnsChange[],
): NetworkConfig | null {
	let config = current;
	for (const change of changes) {
		if (change.action === "servers") {
			if (!config) {
				throw new NotFoundError(
					`network ${change.network.name} has no container with DNS (no aardvark-dns config)`,
				);
			}
			config = { ...config, ...networkHeader(config.gateways, change.network.dnsServers) };
			continue;
		}
		if (change.action === "remove") {
			if (config) config = withoutEntry(config, change.containerId);
			continue;
		}
		if (change.network.gateways.length === 0) continue;
		const header = networkHeader(
			change.network.gateways,
			change.network.dnsServers ?? config?.dnsServers ?? [],
		);
		config = withEntry({ entries: [], ...config, ...header }, containerEntry(change));
	}
	return config && config.entries.length > 0 ? config : null;
}
