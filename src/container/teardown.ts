// teardown: undo whatever the record says was done, going on past errors (DESIGN 4). It works when
// the namespace or the process is gone, is idempotent, and records each step it finished: a
// teardown that failed half-way (a plugin's DEL, a kill) leaves only the rest for the next one.
import { rmSync } from "node:fs";
import { NotFoundError } from "../errors";
import { log } from "../log";
import { removeNetns } from "../netns";
import type { Container } from "../state/schema";
import { UnreadableRecordError } from "../state/store";
import { Change } from "./change";
import { claim } from "./guard";
import { runDir, stopRecordedHelper } from "./helper-records";
import { detachNetwork, withoutNetwork } from "./networks";
import type { Runtime } from "./runtime";

export interface TeardownOptions {
	keepNetns: boolean;
	/** Record a teardown event (not for a setup's own rollback). */
	event: boolean;
}

/**
 * `ctrnet teardown ID`: an unknown ID is a warning (teardown is idempotent); a record that cannot
 * be read is removed with a warning, since nothing else could ever remove it.
 */
export async function teardownById(
	rt: Runtime,
	id: string,
	opts: TeardownOptions,
): Promise<Error[]> {
	let c: Container | undefined;
	try {
		c = rt.store.get(id);
	} catch (e) {
		if (!(e instanceof UnreadableRecordError)) throw e;
		c = salvageOrRemove(rt, id);
		if (!c) {
			log.warn(`${e.message}: removed it; what it set up, if anything, is not undone`);
			return [];
		}
		log.warn(`${e.message}: tearing it down from what can be read`);
	}
	if (!c) {
		log.warn(`container ${id} is not known to ctrnet; nothing to tear down`);
		return [];
	}
	return teardownContainer(rt, c, opts);
}

/**
 * An unreadable record: what can be read of it is stored in its place, to be torn down; else it
 * is removed, since nothing else could ever remove it. Undefined when it was removed.
 */
export function salvageOrRemove(rt: Runtime, id: string): Container | undefined {
	const salvaged = rt.store.salvage(id);
	if (!salvaged) {
		rt.store.tx(() => rt.store.remove(id));
		return undefined;
	}
	return rt.store.tx(() => rt.store.put(salvaged));
}

/** Claims the container, then undoes it. Returns the errors; none means the record is gone. */
export async function teardownContainer(
	rt: Runtime,
	c: Container,
	opts: TeardownOptions,
): Promise<Error[]> {
	let ch: Change;
	try {
		// Atomic: of two teardowns of one container, the second is refused, not run twice.
		ch = new Change(rt, claim(rt, c.id, { kind: "teardown" }));
	} catch (e) {
		return [e as Error];
	}
	return undoContainer(ch, opts);
}

/**
 * Undoes everything in the (claimed) record, from the record in memory: every host step runs even
 * when the store cannot be written. Each finished step is recorded when it can be.
 */
export async function undoContainer(ch: Change, opts: TeardownOptions): Promise<Error[]> {
	const { rt } = ch;
	const errors: Error[] = [];
	const bookkeeping: Error[] = [];
	for (const h of [...ch.c.helpers]) {
		try {
			await stopRecordedHelper(ch, h, bookkeeping);
		} catch (e) {
			errors.push(e as Error);
		}
	}
	// The per-container runtime dir (API socket, unlinked logs) goes with the container.
	rmSync(runDir(rt, ch.c.id), { recursive: true, force: true });
	// Only a namespace ctrnet created dies with its removal (a pinned one lives on in its process).
	const netns0 = ch.c.netns;
	const netnsGoing = !!netns0?.owned && netns0.pid === undefined && !opts.keepNetns;
	for (const network of [...ch.c.networks].reverse()) {
		try {
			await detachNetwork(ch, network, bookkeeping, { netnsGoing });
		} catch (e) {
			if (e instanceof NotFoundError) {
				// Nothing to detach with: neither a cached config nor a definition. Nothing was
				// left by us that we could find.
				log.warn(`${ch.c.id}: ${e.message}; skipping network ${network}`);
				ch.trySave((x) => withoutNetwork(x, network), bookkeeping);
			} else errors.push(e as Error);
		}
	}
	const netns = ch.c.netns;
	if (netns?.owned && !opts.keepNetns) {
		try {
			removeNetns(netns.path, { stale: true });
		} catch (e) {
			if (!(e instanceof NotFoundError)) errors.push(e as Error);
			log.debug(`teardown ${ch.c.id}: netns ${netns.path}: ${(e as Error).message}`);
		}
	}
	try {
		rt.store.tx(() => {
			if (errors.length > 0) {
				// Left for the next teardown or gc: the steps above that failed, nothing else.
				rt.store.put({ ...ch.c, status: "removing", owner: null, op: { kind: "teardown" } });
				return;
			}
			rt.store.remove(ch.c.id);
			if (opts.event) rt.store.addEvent(ch.c.id, "teardown", null);
		});
	} catch (e) {
		// The host is clean (when errors is empty); the record could not follow: gc removes it
		// once this process is gone.
		bookkeeping.push(e as Error);
	}
	if (errors.length === 0 && rt.config.rootless && ch.c.mode.mode === "bridge") {
		// The last rootless container on a network takes the rootless netns with it.
		try {
			await (await import("./drivers/rootless-networks")).releaseIfUnused(rt);
		} catch (e) {
			errors.push(e as Error);
		}
	}
	if (errors.length === 0 && bookkeeping.length > 0) {
		log.warn(
			`${ch.c.id}: torn down, but its record could not be updated (${bookkeeping[0]?.message}); ctrnet gc removes it`,
		);
	}
	return errors;
}
