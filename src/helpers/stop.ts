// Stopping a helper process ctrnet started (slirp4netns, rootlessport, aardvark-dns, pasta): by
// its recorded identity, so a recycled pid is never signalled — which also covers a forwarder
// whose argv[0] is nsenter's (rootless). SIGTERM first, SIGKILL after a grace period.
import { rmSync } from "node:fs";
import { kill, SIGKILL, SIGTERM } from "../../ffi/libc";
import { isAlive, type ProcessIdentity } from "../process/identity";

/** True when it was running (and is stopped now). */
export async function stopProcess(p: ProcessIdentity, graceMs = 2000): Promise<boolean> {
	if (!isAlive(p)) return false;
	kill(p.pid, SIGTERM);
	const deadline = Date.now() + graceMs;
	while (isAlive(p) && Date.now() < deadline) await Bun.sleep(10);
	if (isAlive(p)) kill(p.pid, SIGKILL);
	while (isAlive(p) && Date.now() < deadline + 1000) await Bun.sleep(10);
	return true;
}

/** A recorded helper: its process, and the API socket it leaves behind (slirp4netns). */
export async function stopHelper(
	h: ProcessIdentity & { apiSocket?: string | null },
	graceMs = 2000,
): Promise<boolean> {
	const was = await stopProcess(h, graceMs);
	if (h.apiSocket) rmSync(h.apiSocket, { force: true });
	return was;
}
