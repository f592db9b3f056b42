// zod schemas for everything CNI that crosses a boundary: config files, plugin output, the cache,
// the runtime's capability arguments. The plugin and list objects are loose: the spec requires
// unknown keys to pass through to the plugins unchanged.
//
// Each schema is built on first use: building all of them costs several ms of a CLI run that
// needs two or three (measured in the compiled binary), and ctrnet runs once per container.
import { z } from "zod";

function lazy<T>(build: () => T): () => T {
	let value: T | undefined;
	return () => {
		value ??= build();
		return value;
	};
}

/** libcni's ValidateNetworkName / ValidateContainerID pattern. */
export const CNI_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const PluginConfSchema = lazy(() =>
	z.looseObject({
		type: z.string().min(1, "must name a plugin"),
		capabilities: z.record(z.string(), z.boolean()).optional(),
	}),
);

export const ConfListSchema = lazy(() =>
	z.looseObject({
		cniVersion: z.string().optional(),
		cniVersions: z.array(z.string()).optional(),
		name: z.string().optional(),
		disableCheck: z.boolean().optional(),
		disableGC: z.boolean().optional(),
		plugins: z.array(PluginConfSchema()).min(1, "must list at least one plugin"),
	}),
);

/** A single-plugin `.conf`: the plugin object itself, with the network's name and version. */
export const SingleConfSchema = lazy(() =>
	PluginConfSchema().extend({
		cniVersion: z.string().optional(),
		name: z.string().optional(),
	}),
);

export const PluginErrorSchema = lazy(() =>
	z.object({
		cniVersion: z.string().optional(),
		code: z.number().int(),
		msg: z.string().optional().default(""),
		details: z.string().optional(),
	}),
);

export const VersionInfoSchema = lazy(() =>
	z.object({
		cniVersion: z.string(),
		supportedVersions: z.array(z.string()),
	}),
);

// Results. Every version's shape is accepted by one loose schema; result.ts decides the version.
const RouteSchema = lazy(() =>
	z.object({
		dst: z.string(),
		gw: z.string().optional(),
		mtu: z.number().int().optional(),
		advmss: z.number().int().optional(),
		priority: z.number().int().optional(),
		table: z.number().int().optional(),
		scope: z.number().int().optional(),
	}),
);
export const DnsSchema = lazy(() =>
	z.object({
		nameservers: z.array(z.string()).optional(),
		domain: z.string().optional(),
		search: z.array(z.string()).optional(),
		options: z.array(z.string()).optional(),
	}),
);
const Ip02Schema = lazy(() =>
	z.object({
		ip: z.string(),
		gateway: z.string().optional(),
		routes: z.array(RouteSchema()).optional(),
	}),
);
export const RawResultSchema = lazy(() =>
	z.object({
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
		routes: z.array(RouteSchema()).nullish(),
		dns: DnsSchema().nullish(),
		ip4: Ip02Schema().nullish(),
		ip6: Ip02Schema().nullish(),
	}),
);
export type RawResult = z.infer<ReturnType<typeof RawResultSchema>>;

/** libcni's cachedInfo (results/<net>-<id>-<ifname>); `config` is base64, as Go encodes []byte. */
export const CacheEntrySchema = lazy(() =>
	z.object({
		kind: z.string(),
		containerId: z.string(),
		config: z.string().optional(),
		ifName: z.string(),
		networkName: z.string(),
		netns: z.string().optional(),
		cniArgs: z.array(z.tuple([z.string(), z.string()])).nullish(),
		capabilityArgs: z.record(z.string(), z.unknown()).nullish(),
		result: z.record(z.string(), z.unknown()).nullish(),
	}),
);
export type CacheEntry = z.infer<ReturnType<typeof CacheEntrySchema>>;

const PortMappingSchema = lazy(() =>
	z.looseObject({
		hostPort: z.number().int().min(0).max(65535),
		containerPort: z.number().int().min(1).max(65535),
		protocol: z.string().optional(),
		hostIP: z.string().optional(),
	}),
);

/**
 * Capability arguments (CAP_ARGS, or the runtime's request). The well-known ones are checked;
 * others pass through, since a plugin may declare a capability ctrnet has never heard of.
 */
export const CapabilityArgsSchema = lazy(() =>
	z.looseObject({
		portMappings: z.array(PortMappingSchema()).optional(),
		ips: z.array(z.string()).optional(),
		mac: z.string().optional(),
		aliases: z.record(z.string(), z.array(z.string())).optional(),
	}),
);
