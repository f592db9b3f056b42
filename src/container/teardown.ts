// teardown: undo whatever the record says was done, going on past errors (DESIGN 4). It works when
// the namespace or the process is gone (CNI DEL must succeed then) and is idempotent.
import { rmSync } from "node:fs";
import { NotFoundError } from "../errors";
import { stopHelper } from "../helpers/stop";
import { log } from "../log";
import { removeNetns } from "../netns";
import type { Container } from "../state/schema";
import { detach } from "./attach";
import { claim } from "./guard";
import type { Runtime } from "./runtime";
import { withStandIn } from "./standin";

export interface TeardownOptions {
	keepNetns: boolean;
	/** Record a teardown event (not for a setup's own rollback). */
	event: boolean;
}

/** Returns the errors; the record is removed only when everything was undone. */
export async function teardownContainer(
	rt: Runtime,
	c0: Container,
	opts: TeardownOptions,
): Promise<Error[]> {
	let c: Container;
	try {
		// Atomic: of two teardowns of one container, the second is refused, not run twice.
		c = claim(rt, c0.id, "removing");
	} catch (e) {
		return [e as Error];
	}
	const errors: Error[] = [];
	for (const h of c.helpers) {
		await stopHelper(h).catch((e: Error) => errors.push(e));
	}
	// The per-container runtime dir (API socket, unlinked logs) goes with the container.
	rmSync(`${rt.config.runRoot}/${c.id}`, { recursive: true, force: true });
	for (const network of [...c.networks].reverse()) {
		try {
			await withStandIn(rt, c, network, (x) => detach(rt, x, network));
		} catch (e) {
			// Nothing to DEL with: neither a cached config nor a conflist. Nothing was left by us.
			if (e instanceof NotFoundError)
				log.warn(`${c.id}: ${e.message}; skipping network ${network}`);
			else errors.push(e as Error);
		}
	}
	if (c.netns?.owned && !opts.keepNetns) {
		try {
			removeNetns(c.netns.path, { stale: true });
		} catch (e) {
			if (!(e instanceof NotFoundError)) errors.push(e as Error);
			log.debug(`teardown ${c.id}: netns ${c.netns.path}: ${(e as Error).message}`);
		}
	}
	rt.store.tx(() => {
		if (errors.length > 0) {
			rt.store.update(c.id, (x) => ({ ...x, owner: null }));
			return;
		}
		rt.store.remove(c.id);
		if (opts.event) rt.store.addEvent(c.id, "teardown", null);
	});
	return errors;
}
