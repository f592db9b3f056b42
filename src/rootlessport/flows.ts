// The UDP flow table: one entry per client address, at most `max` of them across every UDP port
// of the forwarder. A new flow beyond the cap closes the least recently used one (a Map keeps
// insertion order, and every use moves a flow to the end). Pure apart from the flows' close().

export interface Closable {
	close(): void;
}

export class FlowTable<F extends Closable> {
	private readonly flows = new Map<string, F>();

	/** `max` may be lowered later; the next add() then closes the excess. */
	constructor(public max: number) {}

	get size(): number {
		return this.flows.size;
	}

	/** The flow for `key`, now the most recently used; undefined if there is none. */
	use(key: string): F | undefined {
		const f = this.flows.get(key);
		if (f !== undefined) {
			this.flows.delete(key);
			this.flows.set(key, f);
		}
		return f;
	}

	/** Adds a flow; closes the least recently used ones beyond `max`. Returns how many. */
	add(key: string, flow: F): number {
		this.flows.get(key)?.close();
		this.flows.delete(key);
		this.flows.set(key, flow);
		let evicted = 0;
		for (const [k, f] of this.flows) {
			if (this.flows.size <= this.max) break;
			this.flows.delete(k);
			f.close();
			evicted++;
		}
		return evicted;
	}

	/** Removes and closes `flow` if it is still the one under `key`. */
	drop(key: string, flow: F): void {
		if (this.flows.get(key) === flow) this.flows.delete(key);
		flow.close();
	}

	/** Closes every flow whose key starts with `prefix` and for which `stale` holds. */
	closeWhere(prefix: string, stale: (f: F) => boolean = () => true): number {
		let n = 0;
		for (const [k, f] of this.flows) {
			if (!k.startsWith(prefix) || !stale(f)) continue;
			this.flows.delete(k);
			f.close();
			n++;
		}
		return n;
	}
}
