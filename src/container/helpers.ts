// Helper processes a container owns (slirp4netns, rootlessport): stopped by pid, but only while
// the pid still belongs to the process that was started (start time recorded with it).
import { kill } from "../../ffi/libc";
import { isSameProcessAlive } from "../host/process";
import type { Helper } from "../state/schema";

const SIGTERM = 15;
const SIGKILL = 9;

export async function stopHelper(h: Helper, graceMs = 2000): Promise<void> {
	if (!isSameProcessAlive(h.pid, h.startTime)) return;
	kill(h.pid, SIGTERM);
	const deadline = Date.now() + graceMs;
	while (Date.now() < deadline) {
		if (!isSameProcessAlive(h.pid, h.startTime)) return;
		await Bun.sleep(10);
	}
	kill(h.pid, SIGKILL);
}

export function helperAlive(h: Helper): boolean {
	return isSameProcessAlive(h.pid, h.startTime);
}
