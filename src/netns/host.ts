// What a namespace path stands for: the host's own network namespace (configuring it would put
// eth0, addresses, routes and plugin rules on the host itself, so setup — CLI, hook, netavark
// front end — refuses it; "the host" is the namespace ctrnet runs in, and PID 1's when ctrnet can
// see it), and whether a recorded namespace is still there.
import { existsSync, statSync } from "node:fs";
import { readMountsAt } from "./mountinfo";

function identity(path: string): string | undefined {
	const st = statSync(path, { throwIfNoEntry: false });
	return st ? `${st.dev}:${st.ino}` : undefined;
}

/** True when `path` (a netns file, /proc/PID/ns/net, a bind mount) is the host's namespace. */
export function isHostNetns(path: string): boolean {
	const target = identity(path);
	if (target === undefined) return false; // a missing namespace is reported by its caller
	for (const host of ["/proc/thread-self/ns/net", "/proc/1/ns/net"]) {
		try {
			if (identity(host) === target) return true;
		} catch {
			// PID 1's namespace is not ours to see (rootless, another pid namespace)
		}
	}
	return false;
}

/** True while a recorded namespace still exists: a mount at its path, or a live /proc/PID/ns. */
export function netnsAlive(path: string): boolean {
	if (!existsSync(path)) return false;
	return path.startsWith("/proc/") || readMountsAt(path).length > 0;
}
