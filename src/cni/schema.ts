// zod schemas for everything CNI that crosses a boundary: config files, plugin output, the cache,
// the runtime's capability arguments. The plugin and list objects are loose: the spec requires
// unknown keys to pass through to the plugins unchanged.
import { z } from "zod";

/** libcni's ValidateNetworkName / ValidateContainerID pattern. */
export const CNI_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const PluginConfSchema = z.looseObject({
	type: z.string().min(1, "must name a plugin"),
	capabilities: z.record(z.string(), z.boolean()).optional(),
});

export const ConfListSchema = z.looseObject({
	cniVersion: z.string().optional(),
	cniVersions: z.array(z.string()).optional(),
	name: z.string().optional(),
	disableCheck: z.boolean().optional(),
	disableGC: z.boolean().optional(),
	plugins: z.array(PluginConfSchema).min(1, "must list at least one plugin"),
});

/** A single-plugin `.conf`: the plugin object itself, with the network's name and version. */
export const SingleConfSchema = PluginConfSchema.extend({
	cniVersion: z.string().optional(),
	name: z.string().optional(),
});

export const PluginErrorSchema = z.object({
	cniVersion: z.string().optional(),
	code: z.number().int(),
	msg: z.string().optional().default(""),
	details: z.string().optional(),
});

export const VersionInfoSchema = z.object({
	cniVersion: z.string(),
	supportedVersions: z.array(z.string()),
});

// Results. Every version's shape is accepted by one loose schema; result.ts decides the version.
const RouteSchema = z.object({
	dst: z.string(),
	gw: z.string().optional(),
	mtu: z.number().int().optional(),
	advmss: z.number().int().optional(),
	priority: z.number().int().optional(),
	table: z.number().int().optional(),
	scope: z.number().int().optional(),
});
export const DnsSchema = z.object({
	nameservers: z.array(z.string()).optional(),
	domain: z.string().optional(),
	search: z.array(z.string()).optional(),
	options: z.array(z.string()).optional(),
});
const Ip02Schema = z.object({
	ip: z.string(),
	gateway: z.string().optional(),
	routes: z.array(RouteSchema).optional(),
});
export const RawResultSchema = z.object({
	cniVersion: z.string().optional(),
	interfaces: z
		.array(
			z.object({
				name: z.string(),
				mac: z.string().optional(),
				mtu: z.number().int().optional(),
				sandbox: z.string().optional(),
				socketPath: z.string().optional(),
				pciID: z.string().optional(),
			}),
		)
		.nullish(),
	ips: z
		.array(
			z.object({
				version: z.enum(["4", "6"]).optional(),
				interface: z.number().int().nullish(),
				address: z.string(),
				gateway: z.string().optional(),
			}),
		)
		.nullish(),
	routes: z.array(RouteSchema).nullish(),
	dns: DnsSchema.nullish(),
	ip4: Ip02Schema.nullish(),
	ip6: Ip02Schema.nullish(),
});
export type RawResult = z.infer<typeof RawResultSchema>;

/** libcni's cachedInfo (results/<net>-<id>-<ifname>); `config` is base64, as Go encodes []byte. */
export const CacheEntrySchema = z.object({
	kind: z.string(),
	containerId: z.string(),
	config: z.string().optional(),
	ifName: z.string(),
	networkName: z.string(),
	netns: z.string().optional(),
	cniArgs: z.array(z.tuple([z.string(), z.string()])).nullish(),
	capabilityArgs: z.record(z.string(), z.unknown()).nullish(),
	result: z.record(z.string(), z.unknown()).nullish(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

const PortMappingSchema = z.looseObject({
	hostPort: z.number().int().min(0).max(65535),
	containerPort: z.number().int().min(1).max(65535),
	protocol: z.string().optional(),
	hostIP: z.string().optional(),
});

/**
 * Capability arguments (CAP_ARGS, or the runtime's request). The well-known ones are checked;
 * others pass through, since a plugin may declare a capability ctrnet has never heard of.
 */
export const CapabilityArgsSchema = z.looseObject({
	portMappings: z.array(PortMappingSchema).optional(),
	ips: z.array(z.string()).optional(),
	mac: z.string().optional(),
	aliases: z.record(z.string(), z.array(z.string())).optional(),
});
