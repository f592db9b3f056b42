// What the native data plane is given: a network definition in podman 4's network JSON (the
// fields this layer reads; everything else passes through untouched), and the per-container
// requests. The schema is the single source of the type; the data plane never parses it itself
// (its callers have, once), so importing the type costs nothing at start-up.
import * as z from "zod/mini";
import { lazySchema } from "../json";

/** The network JSON schema (built on first use). */
export const NativeNetworkSchema = lazySchema(() => {
	const scalar = z.optional(z.union([z.string(), z.number(), z.boolean()]));
	return z.looseObject({
		name: z.string().check(z.minLength(1)),
		driver: z.enum(["bridge", "macvlan"]),
		/** The bridge's name, or the macvlan parent ("" = the host's default-route interface). */
		network_interface: z._default(z.string(), ""),
		subnets: z._default(
			z.array(
				z.looseObject({
					subnet: z.string(),
					gateway: z.optional(z.string()),
					lease_range: z.optional(
						z.looseObject({ start_ip: z.optional(z.string()), end_ip: z.optional(z.string()) }),
					),
				}),
			),
			[],
		),
		ipv6_enabled: z._default(z.boolean(), false),
		internal: z._default(z.boolean(), false),
		dns_enabled: z._default(z.boolean(), false),
		/** podman writes every value as a string ("1500"); numbers are accepted too. */
		options: z.optional(
			z.looseObject({ mtu: scalar, isolate: scalar, mode: scalar, metric: scalar }),
		),
	});
});

export type NativeNetwork = z.output<ReturnType<typeof NativeNetworkSchema>>;
export type NativeSubnet = NativeNetwork["subnets"][number];
