// Helper processes a container owns (slirp4netns, rootlessport): stopped by pid, but only while
// the pid still belongs to the process that was started — its start time is recorded with it,
// which also covers a forwarder whose argv[0] is nsenter's (rootless).
import { rmSync } from "node:fs";
import { kill, SIGKILL, SIGTERM } from "../../ffi/libc";
import { isSameProcessAlive } from "../host/process";
import type { Helper } from "../state/schema";

export async function stopHelper(h: Helper, graceMs = 2000): Promise<void> {
	const alive = () => isSameProcessAlive(h.pid, h.startTime);
	if (alive()) {
		kill(h.pid, SIGTERM);
		const deadline = Date.now() + graceMs;
		while (alive() && Date.now() < deadline) await Bun.sleep(10);
		if (alive()) kill(h.pid, SIGKILL);
		while (alive() && Date.now() < deadline + 1000) await Bun.sleep(10);
	}
	if (h.apiSocket) rmSync(h.apiSocket, { force: true });
}

/** The per-container runtime dir (API socket, unlinked logs): gone with the container. */
export function removeRunDir(runRoot: string, id: string): void {
	rmSync(`${runRoot}/${id}`, { recursive: true, force: true });
}
