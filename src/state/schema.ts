// What ctrnet remembers about a container: the single source of the stored record's type.
// Stored as one JSON document per row, validated on every read (it crosses a process boundary).
// Each schema is built on first use: a setup on a host with no other container reads no record.
import * as z from "zod/mini";
import { lazySchema } from "../json";
import { PortMappingSchema, PROTOCOLS, type Protocol } from "../ports/schema";
import { ProcessIdentitySchema } from "../process/schema";

/** How a container is networked (the --network grammar, parsed by container/network-spec). */
export const NetworkModeSchema = lazySchema(() =>
	z.discriminatedUnion("mode", [
		z.object({ mode: z.literal("none") }),
		z.object({ mode: z.literal("host") }),
		z.object({ mode: z.literal("ns"), path: z.string() }),
		z.object({ mode: z.literal("container"), id: z.string() }),
		z.object({ mode: z.literal("slirp4netns"), options: z.array(z.string()) }),
		/** pasta's own command-line options, as given after `pasta:`. */
		z.object({ mode: z.literal("pasta"), options: z.array(z.string()) }),
		/** CNI networks, sorted (podman stores them sorted; IP/MAC/ports go to the first). */
		z.object({ mode: z.literal("bridge"), networks: z.array(z.string()).check(z.minLength(1)) }),
	]),
);
export type NetworkMode = z.infer<ReturnType<typeof NetworkModeSchema>>;

export const HelperSchema = lazySchema(() =>
	z.object({
		kind: z.enum(["slirp4netns", "rootlessport", "pasta"]),
		pid: z.int().check(z.positive()),
		/** Process start time (field 22 of /proc/PID/stat), so a recycled pid is never signalled. */
		startTime: z.string(),
		/** slirp4netns API socket, when port_handler=slirp4netns. */
		apiSocket: z.optional(z.string()),
	}),
);
export type Helper = z.infer<ReturnType<typeof HelperSchema>>;

export const STATUSES = ["creating", "ready", "removing"] as const;

/** How a network is attached: the backend that made an attachment also removes it. */
export const BACKENDS = ["cni", "native"] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * The change a ctrnet process has under way (with `owner`): what gc undoes or finishes if that
 * process died — the whole container for setup/teardown, one network for the others.
 */
export const OperationSchema = lazySchema(() =>
	z.discriminatedUnion("kind", [
		z.object({ kind: z.literal("setup") }),
		z.object({ kind: z.literal("teardown") }),
		/** Undone by gc: the network comes off again, the record as before. */
		z.object({
			kind: z.literal("connect"),
			network: z.string(),
			portsNetwork: z.nullable(z.string()),
		}),
		/** Finished by gc: the network comes off; the ports move on to `movePortsTo`. */
		z.object({
			kind: z.literal("disconnect"),
			network: z.string(),
			movePortsTo: z.optional(z.string()),
		}),
		/** Finished by gc: these networks are set up again, keeping IP and MAC. */
		z.object({ kind: z.literal("reload"), networks: z.array(z.string()) }),
	]),
);
export type Operation = z.infer<ReturnType<typeof OperationSchema>>;

/** Set up by the OCI hook (src/hook): which runtime container it was, so that only the poststop
 * of that same container tears it down (not a CLI setup, nor another runtime's, under one ID). */
export const HookOriginSchema = lazySchema(() =>
	z.object({
		bundle: z.string(),
		/** The container's init process, and its start time: gc's sign that poststop never came. */
		pid: z.int(),
		startTime: z.optional(z.string()),
	}),
);
export type HookOrigin = z.infer<ReturnType<typeof HookOriginSchema>>;

export const ContainerSchema = lazySchema(() =>
	z.object({
		id: z.string(),
		name: z.string(),
		/** creating/removing: a ctrnet process (owner) is changing the host for this container. */
		status: z.enum(STATUSES),
		owner: z.nullable(ProcessIdentitySchema()),
		/** What the owner is doing (null when nobody is); older records have none. */
		op: z._default(z.nullable(OperationSchema()), null),
		/** Bumped by every write: a decision taken on a read is only carried out on that same rev. */
		rev: z._default(z.int(), 0),
		netns: z.nullable(
			z.object({
				path: z.string(),
				/** ctrnet created it (setup without --netns): removed at teardown. */
				owned: z.boolean(),
				/** Rootless --pid without a bind mount: the container is gone when this process is. */
				pid: z.optional(z.int()),
				pidStartTime: z.optional(z.string()),
			}),
		),
		mode: NetworkModeSchema(),
		staticIP: z.optional(z.string()),
		staticMAC: z.optional(z.string()),
		ports: z.array(PortMappingSchema()),
		/** The network whose portmap plugin carries the ports (the first one; moves on disconnect). */
		portsNetwork: z.nullable(z.string()),
		/** Networks attached now, sorted. */
		networks: z.array(z.string()),
		aliases: z.record(z.string(), z.array(z.string())),
		/** Interface per network, kept for the container's life (a reconnect reuses it). */
		interfaces: z.record(z.string(), z.string()),
		/** CNI ADD result per attached network (the plugin's JSON, in the config's version). */
		results: z.record(z.string(), z.unknown()),
		/** The backend of each attached network (absent: cni, the only one older records knew). */
		backends: z._default(z.record(z.string(), z.enum(BACKENDS)), {}),
		helpers: z.array(HelperSchema()),
		hook: z.optional(HookOriginSchema()),
		createdAt: z.string(),
		updatedAt: z.string(),
	}),
);
export type Container = z.infer<ReturnType<typeof ContainerSchema>>;

/**
 * What the native backend checks in another container's record (which bridges its cni
 * attachments use): validated alone, so that the check does not pay for whole records.
 */
export const NeighbourSchema = lazySchema(() =>
	z.object({
		id: z.string(),
		networks: z.array(z.string()),
		results: z.record(z.string(), z.unknown()),
		backends: z._default(z.record(z.string(), z.enum(BACKENDS)), {}),
	}),
);
export type Neighbour = z.infer<ReturnType<typeof NeighbourSchema>>;

/**
 * One published host port of a stored container (a row of host_ports, which the store keeps in
 * step with the records): what a setup's port reservation reads of every other container,
 * without decoding whole records.
 */
export const PortRowSchema = lazySchema(() =>
	z.object({
		id: z.string(),
		protocol: z.enum(PROTOCOLS),
		hostPort: z.int(),
	}),
);

/**
 * Another container as the port reservation sees it: its host ports, and its namespace when it
 * is the one the new container joins.
 */
export interface PortHolder {
	id: string;
	netns: { path: string } | null;
	ports: { protocol: Protocol; hostPort: number }[];
}

export const EVENT_TYPES = ["setup", "teardown", "connect", "disconnect", "reload"] as const;
export const EventSchema = lazySchema(() =>
	z.object({
		time: z.string(),
		id: z.string(),
		type: z.enum(EVENT_TYPES),
		network: z.nullable(z.string()),
	}),
);
export type CtrEvent = z.infer<ReturnType<typeof EventSchema>>;
