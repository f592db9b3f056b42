// A published port, in the shape CNI's portMappings capability and podman v2 (ocicni) use.
import * as z from "zod/mini";
import { lazySchema } from "../json";

export const PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const PortMappingSchema = lazySchema(() =>
	z.object({
		/** "" means every address (0.0.0.0 is stored as ""). */
		hostIP: z.string(),
		hostPort: z.int().check(z.minimum(1), z.maximum(65535)),
		containerPort: z.int().check(z.minimum(1), z.maximum(65535)),
		protocol: z.enum(PROTOCOLS),
		/**
		 * Which of podman's mappings the port was spelt out from (the netavark front end): the
		 * iptables layout writes one mapping's ports as one range rule, as netavark does.
		 */
		mapping: z.optional(z.int()),
	}),
);
export type PortMapping = z.infer<ReturnType<typeof PortMappingSchema>>;

/** A parsed --publish request: host ports may still be 0 ("pick a free one"). */
export interface PortRequest {
	hostIP: string;
	/** First host port, or 0 when the user left it to us. */
	hostPort: number;
	containerPort: number;
	/** Number of consecutive ports (ranges). */
	count: number;
	protocol: Protocol;
}
