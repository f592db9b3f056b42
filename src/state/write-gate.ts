// Writers of the state database queue on a flock before they take SQLite's write lock.
//
// SQLite makes a writer that finds its lock taken sleep and retry (its busy handler: 1, 2, 5,
// 10 … 100 ms): 100 setups at once then spend much of their time asleep beside idle CPUs. A
// blocking flock wakes the next writer the moment the last one commits. The gate has the same
// scope as SQLite's lock — taken right before BEGIN IMMEDIATE, dropped right after COMMIT — so it
// adds no lock order: nothing waits for anything else inside a transaction.
//
// Closing a connection takes SQLite's write lock too (it checkpoints the WAL into the database
// and resets it), so a gated database is closed under the gate — at the latest when the process
// exits.
import type { Database } from "bun:sqlite";
import { lockFileSync } from "../files/lock";

const gates = new Map<Database, string>();
let closeAtExit = false;

/** From now on, write transactions of `db`, and its close, queue on a flock of `lockPath`. */
export function gateWrites(db: Database, lockPath: string): void {
	gates.set(db, lockPath);
	if (!closeAtExit) {
		closeAtExit = true;
		process.once("exit", () => {
			for (const d of [...gates.keys()]) closeGated(d);
		});
	}
}

/** Runs `fn` as one IMMEDIATE transaction of `db` (a savepoint when one is open already). */
export function writeTransaction<T>(db: Database, fn: () => T): T {
	const path = gates.get(db);
	if (path === undefined || db.inTransaction) return db.transaction(fn).immediate();
	using _gate = lockFileSync(path, "exclusive");
	return db.transaction(fn).immediate();
}

/** Closes `db`, under its gate when it has one. */
export function closeGated(db: Database): void {
	const path = gates.get(db);
	gates.delete(db);
	if (path === undefined || db.inTransaction) {
		db.close();
		return;
	}
	try {
		using _gate = lockFileSync(path, "exclusive");
		db.close();
	} catch {
		db.close(); // the gate could not be had (its dir is gone, say): close anyway
	}
}
