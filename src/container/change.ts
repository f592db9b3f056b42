// One claimed change of one container. The record is kept in memory and written through after
// every step: memory first, so that when a write fails (a full disk) the process still knows what
// it did to the host and can undo it from there; the store second, so that a kill -9 leaves a
// record gc can act on. While the claim is held no other process writes the record.
import type { Container, CtrEvent } from "../state/schema";
import type { Runtime } from "./runtime";

export class Change {
	constructor(
		readonly rt: Runtime,
		public c: Container,
	) {}

	/** Applies `fn` to the record: in memory, then stored. Throws when the store cannot write. */
	save(fn: (c: Container) => Container): Container {
		const next = fn(this.c);
		this.c = next;
		this.c = this.rt.store.tx(() => this.rt.store.put(next));
		return this.c;
	}

	/**
	 * Marks the change finished — ready, no owner, no operation — and records its events, in one
	 * transaction: never ready without them, nor the reverse.
	 */
	finish(events: readonly { type: CtrEvent["type"]; network: string | null }[]): Container {
		const done = { ...this.c, status: "ready" as const, owner: null, op: null };
		this.c = this.rt.store.tx(() => {
			const stored = this.rt.store.put(done);
			for (const e of events) this.rt.store.addEvent(stored.id, e.type, e.network);
			return stored;
		});
		return this.c;
	}

	/** save() that reports a failed write instead of throwing (undo goes on regardless). */
	trySave(fn: (c: Container) => Container, errors: Error[]): Container {
		try {
			return this.save(fn);
		} catch (e) {
			errors.push(e as Error);
			return this.c;
		}
	}
}
