// A network definition in podman 4's JSON format (containers/common libnetwork types.Network), the
// file `<name>.json` that podman and ctrnet share. Objects are loose: a field ctrnet does not know
// (a newer podman's, a user's) survives a read-modify-write unchanged.
//
// The schema is built on first use: the netavark front end runs once per container and must not
// pay for schemas it does not touch.
import * as z from "zod/mini";
import { lazySchema } from "../json";

export const DRIVERS = ["bridge", "macvlan"] as const;
export type Driver = (typeof DRIVERS)[number];

/** IPAM drivers podman 4.3 writes; dhcp is refused (podman 4.3 with netavark refuses it too). */
export const IPAM_DRIVERS = ["host-local", "none"] as const;

export const MACVLAN_MODES = ["bridge", "private", "vepa", "passthru"] as const;

/**
 * podman's name pattern (types.NameRegex), capped so that `<name>.json` fits in a file name
 * (NAME_MAX 255).
 */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,249}$/;
export const NAME_RULE = "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most 250 characters)";

/** The podman default network's fixed ID ("Important do not change this ID" in libnetwork). */
export const PODMAN_DEFAULT_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9";

const stringMap = () => z.record(z.string(), z.string());
// Go's encoding/json turns a JSON null into the zero value; podman never writes one, but a
// hand-edited file may, and podman accepts it.
export const orNull = <T extends z.core.SomeType>(s: T) => z.optional(z.nullable(s));

export const LeaseRangeSchema = lazySchema(() =>
	z.looseObject({
		start_ip: orNull(z.string()),
		end_ip: orNull(z.string()),
	}),
);

export const SubnetDefSchema = lazySchema(() =>
	z.looseObject({
		subnet: z.string(),
		gateway: orNull(z.string()),
		lease_range: orNull(LeaseRangeSchema()),
	}),
);

export const NetworkDefSchema = lazySchema(() =>
	z.looseObject({
		name: z.string(),
		id: z.string(),
		driver: z.string(),
		network_interface: orNull(z.string()),
		created: orNull(z.string()),
		subnets: orNull(z.array(SubnetDefSchema())),
		ipv6_enabled: orNull(z.boolean()),
		internal: orNull(z.boolean()),
		dns_enabled: orNull(z.boolean()),
		labels: orNull(stringMap()),
		options: orNull(stringMap()),
		ipam_options: orNull(stringMap()),
	}),
);

/** A file's content as parsed: what is on disk, nothing filled in. */
export type RawNetworkDef = z.infer<ReturnType<typeof NetworkDefSchema>>;

export interface LeaseRange {
	start_ip?: string;
	end_ip?: string;
	[unknown: string]: unknown;
}

export interface SubnetDef {
	/** The network address and prefix, host bits cleared ("10.89.0.0/24"). */
	subnet: string;
	gateway?: string;
	lease_range?: LeaseRange;
	[unknown: string]: unknown;
}

/**
 * A checked network definition, with podman's in-memory defaults: booleans and maps present,
 * subnets canonical, and the gateway filled in where podman fills it (not internal, or DNS on).
 * Unknown fields are kept as they were read.
 */
export interface NetworkDef {
	name: string;
	id: string;
	driver: Driver;
	/** The bridge (bridge driver) or the parent interface (macvlan); "" when unset. */
	network_interface: string;
	/** RFC 3339 with nanoseconds, as Go writes time.Time; "" when the file had none. */
	created: string;
	subnets: SubnetDef[];
	ipv6_enabled: boolean;
	internal: boolean;
	dns_enabled: boolean;
	labels: Record<string, string>;
	options: Record<string, string>;
	ipam_options: Record<string, string>;
	[unknown: string]: unknown;
}

/** The IPAM driver in effect: podman treats an unset driver as host-local. */
export function ipamDriver(def: Pick<NetworkDef, "ipam_options">): string {
	return def.ipam_options.driver || "host-local";
}
