// gc: reclaim what dead containers left (DESIGN 4), and repair what a killed ctrnet left half-done.
// A container is dead when its namespace file or its process is gone; a change is orphaned when
// the ctrnet process doing it died. An orphaned connect is undone, a disconnect or reload finished
// — for that network only, while the container lives; an orphaned setup or teardown, or a dead
// container, is torn down whole.
//
// Decisions are taken on a snapshot and carried out only on the record as it was read (its
// revision), claimed in the same transaction: a container that a concurrent setup, reload or
// teardown changed meanwhile is left alone.
import { NotFoundError } from "../errors";
import { log } from "../log";
import { netnsAlive } from "../netns";
import { isSameProcessAlive } from "../process/identity";
import type { Container, Operation } from "../state/schema";
import { Change } from "./change";
import { finishDisconnect, withoutConnect } from "./connect";
import { removeOrphanStandIns } from "./drivers/cni-standin";
import { claimIfUnchanged } from "./guard";
import { modeDriver } from "./modes";
import { detachNetwork, withoutNetwork } from "./networks";
import type { Runtime } from "./runtime";
import { salvageOrRemove, undoContainer } from "./teardown";

export interface GcReport {
	reclaimed: { id: string; reason: string }[];
	repaired: { id: string; reason: string }[];
	failed: { id: string; error: string }[];
}

export interface Facts {
	netnsMounted: (path: string) => boolean;
	alive: (pid: number, start: string) => boolean;
	known: (id: string) => boolean;
}

/** Why the container itself is gone, or undefined while it lives. Pure over what it is given. */
export function containerGone(c: Container, facts: Facts): string | undefined {
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

const DOING: Record<Operation["kind"], string> = {
	setup: "setting it up",
	teardown: "tearing it down",
	connect: "connecting it",
	disconnect: "disconnecting it",
	reload: "reloading it",
};

/** Why gc must act on the container, or undefined when it is fine. Pure. */
export function deathReason(c: Container, facts: Facts): string | undefined {
	if (c.owner) {
		if (facts.alive(c.owner.pid, c.owner.startTime)) return undefined; // being changed right now
		const what = c.op ? DOING[c.op.kind] : "changing it";
		const net = c.op && "network" in c.op ? ` (network ${c.op.network})` : "";
		return `ctrnet process ${c.owner.pid} died while ${what}${net}`;
	}
	if (c.status !== "ready") return `left half torn down (${c.status})`;
	return containerGone(c, facts);
}

/** What gc does about it: repair one operation, or tear the container down. Pure. */
export function recoveryFor(c: Container, facts: Facts): Operation {
	const op = c.owner ? c.op : null;
	const repairable = op?.kind === "connect" || op?.kind === "disconnect" || op?.kind === "reload";
	if (op && repairable && c.status !== "removing" && !containerGone(c, facts)) return op;
	return { kind: "teardown" };
}

function hostFacts(rt: Runtime): Facts {
	return {
		netnsMounted: netnsAlive,
		alive: isSameProcessAlive,
		known: (id: string) => {
			try {
				return rt.store.get(id) !== undefined;
			} catch {
				return true; // unreadable, but there
			}
		},
	};
}

export async function gc(rt: Runtime): Promise<GcReport> {
	const facts = hostFacts(rt);
	const report: GcReport = { reclaimed: [], repaired: [], failed: [] };
	const { readable, unreadable } = rt.store.listAll();
	for (const bad of unreadable) {
		const salvaged = salvageOrRemove(rt, bad.id);
		if (salvaged) {
			// Torn down below, as a record left half torn down.
			readable.push(salvaged);
			continue;
		}
		log.warn(
			`removed the unreadable record of ${bad.id} (${bad.problem}); what it set up is not undone`,
		);
		report.reclaimed.push({ id: bad.id, reason: `unreadable record: ${bad.problem}` });
	}
	for (const seen of readable) {
		const reason = deathReason(seen, facts);
		if (!reason) continue;
		const op = recoveryFor(seen, facts);
		// Only if it is still exactly as read, and still needs it: never a record that a live
		// process claimed, re-created or changed since the snapshot.
		const claimed = claimIfUnchanged(rt, seen, op, (fresh) => !!deathReason(fresh, facts));
		if (!claimed) continue;
		const ch = new Change(rt, claimed);
		try {
			if (op.kind === "teardown") {
				const errors = await undoContainer(ch, { keepNetns: false, event: true });
				if (errors.length === 0) report.reclaimed.push({ id: seen.id, reason });
				else report.failed.push({ id: seen.id, error: errors.map((e) => e.message).join("; ") });
			} else {
				await repair(ch, op);
				report.repaired.push({ id: seen.id, reason });
			}
		} catch (e) {
			report.failed.push({ id: seen.id, error: (e as Error).message });
		}
	}
	if (rt.config.rootless) {
		// A rootless netns nothing uses any more (its containers died, ctrnet was killed).
		await (await import("./drivers/rootless-networks")).releaseIfUnused(rt);
	}
	for (const path of removeOrphanStandIns(rt.config.netnsDir, isSameProcessAlive)) {
		report.reclaimed.push({ id: path, reason: "a stand-in namespace left by a killed ctrnet" });
	}
	return report;
}

/** Undoes an orphaned connect, or finishes a disconnect or reload; the container stays up. */
async function repair(ch: Change, op: Operation): Promise<void> {
	if (op.kind === "connect") {
		if (ch.c.networks.includes(op.network)) {
			try {
				await detachNetwork(ch, op.network);
			} catch (e) {
				if (!(e instanceof NotFoundError)) throw e;
				ch.save((x) => withoutNetwork(x, op.network));
			}
		}
		ch.c = withoutConnect(ch.c, op.network, op.portsNetwork);
		ch.finish([]);
	} else if (op.kind === "disconnect") {
		await finishDisconnect(ch, op.network, true);
		ch.finish([{ type: "disconnect", network: op.network }]);
	} else {
		if (op.kind === "reload") await modeDriver(ch.c.mode.mode).reload?.(ch);
		ch.finish([]);
	}
}
