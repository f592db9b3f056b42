// Helper processes a container owns (slirp4netns, rootlessport): stopped by pid, but only while
// the pid still belongs to the process that was started (start time recorded with it).
import { rmSync } from "node:fs";
import { isSameProcessAlive } from "../host/process";
import { stopRootlessport } from "../rootlessport/launch";
import { stopSlirp4netns } from "../slirp/launch";
import type { Helper } from "../state/schema";

export async function stopHelper(h: Helper): Promise<void> {
	if (isSameProcessAlive(h.pid, h.startTime)) {
		if (h.kind === "slirp4netns") await stopSlirp4netns(h.pid, h.apiSocket);
		else await stopRootlessport(h.pid);
	}
	if (h.apiSocket) rmSync(h.apiSocket, { force: true });
}

/** The per-container runtime dir (API socket, unlinked logs): gone with the container. */
export function removeRunDir(runRoot: string, id: string): void {
	rmSync(`${runRoot}/${id}`, { recursive: true, force: true });
}
