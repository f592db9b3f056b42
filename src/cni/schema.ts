// zod schemas for everything CNI that crosses a boundary: config files, plugin output, the cache,
// the runtime's capability arguments. The plugin and list objects are loose: the spec requires
// unknown keys to pass through to the plugins unchanged.
//
// Each schema is built on first use: building all of them costs several ms of a CLI run that
// needs two or three (measured in the compiled binary), and ctrnet runs once per container.
import * as z from "zod/mini";
import { lazySchema } from "../json";

/**
 * A plugin type is a file name looked up in the plugin dirs, never a path: libcni's FindInPath
 * refuses any name holding a separator, since "../../tmp/x" would run whatever sits there (as root).
 */
export function isPluginName(type: string): boolean {
	return (
		type !== "" && type !== "." && type !== ".." && !type.includes("/") && !type.includes("\0")
	);
}

/** libcni's ValidateNetworkName / ValidateContainerID pattern. */
export const CNI_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const PluginConfSchema = lazySchema(() =>
	z.looseObject({
		type: z
			.string()
			.check(
				z.minLength(1, "must name a plugin"),
				z.refine(isPluginName, "invalid plugin name: a plugin type cannot contain a path"),
			),
		capabilities: z.optional(z.record(z.string(), z.boolean())),
	}),
);

export const ConfListSchema = lazySchema(() =>
	z.looseObject({
		cniVersion: z.optional(z.string()),
		cniVersions: z.optional(z.array(z.string())),
		name: z.optional(z.string()),
		disableCheck: z.optional(z.boolean()),
		disableGC: z.optional(z.boolean()),
		plugins: z.array(PluginConfSchema()).check(z.minLength(1, "must list at least one plugin")),
	}),
);

/** A single-plugin `.conf`: the plugin object itself, with the network's name and version. */
export const SingleConfSchema = lazySchema(() =>
	z.extend(PluginConfSchema(), {
		cniVersion: z.optional(z.string()),
		name: z.optional(z.string()),
	}),
);

export const PluginErrorSchema = lazySchema(() =>
	z.object({
		cniVersion: z.optional(z.string()),
		code: z.int(),
		msg: z._default(z.string(), ""),
		details: z.optional(z.string()),
	}),
);

export const VersionInfoSchema = lazySchema(() =>
	z.object({
		cniVersion: z.string(),
		supportedVersions: z.array(z.string()),
	}),
);

// Results. Every version's shape is accepted by one loose schema; result.ts decides the version.
const RouteSchema = lazySchema(() =>
	z.object({
		dst: z.string(),
		gw: z.optional(z.string()),
		mtu: z.optional(z.int()),
		advmss: z.optional(z.int()),
		priority: z.optional(z.int()),
		table: z.optional(z.int()),
		scope: z.optional(z.int()),
	}),
);
export const DnsSchema = lazySchema(() =>
	z.object({
		nameservers: z.optional(z.array(z.string())),
		domain: z.optional(z.string()),
		search: z.optional(z.array(z.string())),
		options: z.optional(z.array(z.string())),
	}),
);
const Ip02Schema = lazySchema(() =>
	z.object({
		ip: z.string(),
		gateway: z.optional(z.string()),
		routes: z.optional(z.array(RouteSchema())),
	}),
);
export const RawResultSchema = lazySchema(() =>
	z.object({
		cniVersion: z.optional(z.string()),
		interfaces: z.nullish(
			z.array(
				z.object({
					name: z.string(),
					mac: z.optional(z.string()),
					mtu: z.optional(z.int()),
					sandbox: z.optional(z.string()),
					socketPath: z.optional(z.string()),
					pciID: z.optional(z.string()),
				}),
			),
		),
		ips: z.nullish(
			z.array(
				z.object({
					version: z.optional(z.enum(["4", "6"])),
					interface: z.nullish(z.int()),
					address: z.string(),
					gateway: z.optional(z.string()),
				}),
			),
		),
		routes: z.nullish(z.array(RouteSchema())),
		dns: z.nullish(DnsSchema()),
		ip4: z.nullish(Ip02Schema()),
		ip6: z.nullish(Ip02Schema()),
	}),
);
export type RawResult = z.infer<ReturnType<typeof RawResultSchema>>;

/** libcni's cachedInfo (results/<net>-<id>-<ifname>); `config` is base64, as Go encodes []byte. */
export const CacheEntrySchema = lazySchema(() =>
	z.object({
		kind: z.string(),
		containerId: z.string(),
		config: z.optional(z.string()),
		ifName: z.string(),
		networkName: z.string(),
		netns: z.optional(z.string()),
		cniArgs: z.nullish(z.array(z.tuple([z.string(), z.string()]))),
		capabilityArgs: z.nullish(z.record(z.string(), z.unknown())),
		result: z.nullish(z.record(z.string(), z.unknown())),
		/** ctrnet's own: the plugins (by index) whose DEL already succeeded. libcni ignores it. */
		ctrnetDeleted: z.optional(z.array(z.int())),
	}),
);
export type CacheEntry = z.infer<ReturnType<typeof CacheEntrySchema>>;

const PortMappingSchema = lazySchema(() =>
	z.looseObject({
		hostPort: z.int().check(z.minimum(0), z.maximum(65535)),
		containerPort: z.int().check(z.minimum(1), z.maximum(65535)),
		protocol: z.optional(z.string()),
		hostIP: z.optional(z.string()),
	}),
);

/**
 * Capability arguments (CAP_ARGS, or the runtime's request). The well-known ones are checked;
 * others pass through, since a plugin may declare a capability ctrnet has never heard of.
 */
export const CapabilityArgsSchema = lazySchema(() =>
	z.looseObject({
		portMappings: z.optional(z.array(PortMappingSchema())),
		ips: z.optional(z.array(z.string())),
		mac: z.optional(z.string()),
		aliases: z.optional(z.record(z.string(), z.array(z.string()))),
	}),
);
