// gc: reclaim what dead containers left (DESIGN 4). A container is dead when its namespace file
// or pinned process is gone, or when the ctrnet process that was changing it died mid-way.
import { isSameProcessAlive } from "../process/identity";
import type { Container } from "../state/schema";
import { busy } from "./guard";
import type { Runtime } from "./runtime";
import { netnsAlive } from "./standin";
import { teardownContainer } from "./teardown";

export interface GcReport {
	reclaimed: { id: string; reason: string }[];
	failed: { id: string; error: string }[];
}

/** Why a container counts as dead, or undefined while it lives. Pure over what it is given. */
export function deathReason(
	c: Container,
	facts: {
		netnsMounted: (path: string) => boolean;
		alive: (pid: number, start: string) => boolean;
		known: (id: string) => boolean;
	},
): string | undefined {
	if (c.owner) {
		if (!facts.alive(c.owner.pid, c.owner.startTime))
			return `ctrnet process ${c.owner.pid} died while it was changing it`;
		return undefined; // being changed right now
	}
	if (c.status !== "ready") return `left half torn down (${c.status})`;
	if (c.mode.mode === "container" && !facts.known(c.mode.id))
		return `the container it shared (${c.mode.id}) is gone`;
	// Set up by an OCI hook whose poststop never came (the runtime was killed): the init is gone.
	if (c.hook?.startTime && !facts.alive(c.hook.pid, c.hook.startTime))
		return `its OCI runtime container's process ${c.hook.pid} is gone`;
	if (!c.netns) return undefined;
	if (c.netns.pid !== undefined) {
		return facts.alive(c.netns.pid, c.netns.pidStartTime ?? "")
			? undefined
			: `process ${c.netns.pid} is gone`;
	}
	return facts.netnsMounted(c.netns.path) ? undefined : `netns ${c.netns.path} is gone`;
}

export async function gc(rt: Runtime): Promise<GcReport> {
	const facts = {
		netnsMounted: netnsAlive,
		alive: isSameProcessAlive,
		known: (id: string) => rt.store.get(id) !== undefined,
	};
	const report: GcReport = { reclaimed: [], failed: [] };
	for (const c of rt.store.list()) {
		const reason = deathReason(c, facts);
		if (!reason || busy(c)) continue;
		// A dead owner's claim would make teardown refuse: drop it first.
		const record = rt.store.update(c.id, (x) => ({ ...x, owner: null }));
		const errors = await teardownContainer(rt, record, { keepNetns: false, event: true });
		if (errors.length === 0) report.reclaimed.push({ id: c.id, reason });
		else report.failed.push({ id: c.id, error: errors.map((e) => e.message).join("; ") });
	}
	return report;
}
