// What each network mode accepts in a setup request, as pure data: parseSetup checks a request
// against it, and the mode table (modes.ts) carries it with each driver.
import type { NetworkMode } from "../state/schema";
import type { ModeAccepts } from "./drivers/types";

export const ACCEPTS: Record<NetworkMode["mode"], ModeAccepts> = {
	none: { ports: false, address: false, aliases: false, netnsSource: true, rootless: true },
	host: { ports: false, address: false, aliases: false, netnsSource: false, rootless: true },
	ns: { ports: false, address: false, aliases: false, netnsSource: false, rootless: true },
	container: { ports: false, address: false, aliases: false, netnsSource: false, rootless: true },
	slirp4netns: { ports: true, address: false, aliases: false, netnsSource: true, rootless: true },
	// Rootless too: in the user's rootless netns (DESIGN 13).
	bridge: { ports: true, address: true, aliases: true, netnsSource: true, rootless: true },
};

/** The modes that accept `what`, for messages ("--publish needs bridge or slirp4netns"). */
export function modesAccepting(what: keyof ModeAccepts): string {
	const names = Object.entries(ACCEPTS)
		.filter(([, a]) => a[what])
		.map(([m]) => (m === "bridge" ? "a network" : m));
	return names.join(" or ");
}
