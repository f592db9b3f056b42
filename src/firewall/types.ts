// What the native backend's firewall is told: a network (its bridge and subnets, and whether it
// is internal or isolated) and the ports a container publishes through it, already concrete (a
// random host port was chosen by the caller; a range arrives as one entry per port).
import * as z from "zod/mini";
import { PROTOCOLS } from "../ports/schema";

const port = z.int().check(z.minimum(1), z.maximum(65535));

export const FwNetworkSchema = z.object({
	/** The network's name; only used in comments, so `nft list ruleset` says whose element it is. */
	name: z.string(),
	/** The bridge on the host: the key of every per-network element. */
	bridge: z.string(),
	/** CIDRs, IPv4 and/or IPv6 (host bits may be set; the network address is used). */
	subnets: z.array(z.string()),
	/** No way out: no masquerade, no forwarding beyond the bridge, no published ports. */
	internal: z.boolean(),
	/** netavark's `isolate`: no forwarding between two isolated networks. */
	isolate: z.boolean(),
	/**
	 * aardvark-dns listens on another port than 53 (NETAVARK_DNS_PORT): the containers' queries
	 * to <gateway>:53/udp are redirected to <gateway>:<port>, as netavark does.
	 */
	dnsRedirect: z.optional(z.object({ gateways: z.array(z.string()), port })),
});
export type FwNetwork = z.infer<typeof FwNetworkSchema>;

export const FwPortSchema = z.object({
	/** "" = every host address of the container address's family; "0.0.0.0" / "::" the same. */
	hostIP: z.string(),
	hostPort: port,
	containerPort: port,
	protocol: z.enum(PROTOCOLS),
	/** The container's address on this network; of the same family as hostIP when that is set. */
	containerIP: z.string(),
	/** As PortMapping's: the podman mapping it comes from (one range rule per mapping). */
	mapping: z.optional(z.int()),
});
export type FwPort = z.infer<typeof FwPortSchema>;
