// The helper processes a container's record lists (slirp4netns, pasta, the rootlessport
// forwarder), and the per-container runtime dir they keep their API socket, pid file and unlinked
// logs in. Each helper is recorded as soon as it runs and dropped only once stopped, so that a
// failure later (or a kill) still stops it at teardown or gc.
import { mkdirSync } from "node:fs";
import { stopHelper } from "../helpers/stop";
import type { ProcessIdentity } from "../process/identity";
import type { Container, Helper } from "../state/schema";
import type { Change } from "./change";
import type { Runtime } from "./runtime";

/** The container's runtime dir; it goes with the container (teardown). */
export function runDir(rt: Runtime, id: string): string {
	return `${rt.config.runRoot}/${id}`;
}

/** runDir, made (0700) when missing. */
export function makeRunDir(rt: Runtime, id: string): string {
	const dir = runDir(rt, id);
	mkdirSync(dir, { recursive: true, mode: 0o700 });
	return dir;
}

/** Adds a started helper to the record. */
export function recordHelper(
	ch: Change,
	kind: Helper["kind"],
	p: ProcessIdentity,
	apiSocket?: string | null,
): void {
	const h: Helper = {
		kind,
		pid: p.pid,
		startTime: p.startTime,
		...(apiSocket ? { apiSocket } : {}),
	};
	ch.save((x) => ({ ...x, helpers: [...x.helpers, h] }));
}

/**
 * Stops a recorded helper, then drops it from the record. With `bookkeeping`, a record that cannot
 * be written is reported there instead of thrown (an undo goes on regardless).
 */
export async function stopRecordedHelper(
	ch: Change,
	h: Helper,
	bookkeeping?: Error[],
): Promise<void> {
	await stopHelper(h);
	const drop = (x: Container) => ({ ...x, helpers: x.helpers.filter((y) => y.pid !== h.pid) });
	if (bookkeeping) ch.trySave(drop, bookkeeping);
	else ch.save(drop);
}
