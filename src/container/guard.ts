// One ctrnet process at a time changes a given container: the record names its owner while a
// change is under way. An owner that died (kill -9) leaves the record for gc to undo.
import { ConflictError } from "../errors";
import { isSameProcessAlive, self } from "../process/identity";
import type { Container } from "../state/schema";
import type { Runtime } from "./runtime";

/** True when the container is mid-change by a ctrnet process that is still running. */
export function busy(c: Container): boolean {
	return (
		c.owner !== null &&
		c.owner.pid !== process.pid &&
		isSameProcessAlive(c.owner.pid, c.owner.startTime)
	);
}

/** Claims the container for this process (one transaction); refuses one another process holds. */
export function claim(rt: Runtime, id: string, status: Container["status"]): Container {
	return rt.store.update(id, (c) => {
		if (busy(c))
			throw new ConflictError(`container ${id} is being changed by ctrnet process ${c.owner?.pid}`);
		return { ...c, status, owner: self() };
	});
}

/** Marks the change finished. */
export function release(rt: Runtime, id: string, patch: Partial<Container> = {}): Container {
	return rt.store.update(id, (c) => ({ ...c, ...patch, status: "ready", owner: null }));
}
