// One ctrnet process at a time changes a given container: the record names its owner and the
// operation under way while a change is in progress. An owner that died (kill -9) leaves both in
// the record, and gc (gc.ts) undoes or finishes exactly that operation.
import { ConflictError } from "../errors";
import { isAlive, self } from "../process/identity";
import type { Container, Operation } from "../state/schema";
import type { Runtime } from "./runtime";

/** True when the container is mid-change by another ctrnet process that is still running. */
function busy(c: Container): boolean {
	return c.owner !== null && c.owner.pid !== process.pid && isAlive(c.owner);
}

/**
 * The status a container shows while `op` is under way. A record knows three statuses: a connect,
 * disconnect or reload shows "creating", as a setup does.
 */
function statusOf(op: Operation): Container["status"] {
	return op.kind === "teardown" ? "removing" : "creating";
}

/**
 * Claims the container for this process and records what it is about to do (one transaction);
 * refuses one another live process holds.
 */
export function claim(rt: Runtime, id: string, op: Operation): Container {
	return rt.store.update(id, (c) => {
		if (busy(c))
			throw new ConflictError(`container ${id} is being changed by ctrnet process ${c.owner?.pid}`);
		return { ...c, status: statusOf(op), owner: self(), op };
	});
}

/**
 * Claims the container only if it is still exactly as read (same revision) and `still` holds on
 * the fresh read — the compare-and-set gc needs, so that a decision taken on an old snapshot never
 * hits a container that was re-created, reloaded or claimed meanwhile. Undefined when it changed.
 */
export function claimIfUnchanged(
	rt: Runtime,
	seen: Container,
	op: Operation,
	still: (fresh: Container) => boolean,
): Container | undefined {
	return rt.store.tx(() => {
		const fresh = rt.store.get(seen.id);
		// createdAt too: a container torn down and set up again under the same ID is another one.
		const same = fresh?.rev === seen.rev && fresh.createdAt === seen.createdAt;
		if (!fresh || !same || busy(fresh) || !still(fresh)) return undefined;
		return rt.store.put({ ...fresh, status: statusOf(op), owner: self(), op });
	});
}

/** Marks the change finished. */
export function release(rt: Runtime, id: string, patch: Partial<Container> = {}): Container {
	return rt.store.update(id, (c) => ({ ...c, ...patch, status: "ready", owner: null, op: null }));
}
