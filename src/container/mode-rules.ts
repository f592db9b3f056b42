// What each network mode accepts in a setup request, as pure data: parseSetup checks a request
// against it. Every mode is available rootless too (networks in the user's rootless netns,
// DESIGN 13).
import type { NetworkMode } from "../state/schema";

/** What a network mode accepts in a setup request. */
export interface ModeAccepts {
	/** --publish */
	ports: boolean;
	/** --ip / --mac */
	address: boolean;
	/** --alias */
	aliases: boolean;
	/** --netns / --pid (a namespace of the container's own) */
	netnsSource: boolean;
}

export const ACCEPTS: Record<NetworkMode["mode"], ModeAccepts> = {
	none: { ports: false, address: false, aliases: false, netnsSource: true },
	host: { ports: false, address: false, aliases: false, netnsSource: false },
	ns: { ports: false, address: false, aliases: false, netnsSource: false },
	container: { ports: false, address: false, aliases: false, netnsSource: false },
	slirp4netns: { ports: true, address: false, aliases: false, netnsSource: true },
	pasta: { ports: true, address: false, aliases: false, netnsSource: true },
	bridge: { ports: true, address: true, aliases: true, netnsSource: true },
};

/** The modes that accept `what`, for messages ("--publish needs bridge or slirp4netns"). */
export function modesAccepting(what: keyof ModeAccepts): string {
	const names = Object.entries(ACCEPTS)
		.filter(([, a]) => a[what])
		.map(([m]) => (m === "bridge" ? "a network" : m));
	return names.join(" or ");
}
