// The bun:sqlite store (DESIGN 8): WAL, a busy timeout, and every change in one IMMEDIATE
// transaction, so any number of ctrnet processes can run at once without losing a row.
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { ConflictError, NotFoundError } from "../errors";
import { MIGRATIONS } from "./migrations";
import { type Container, ContainerSchema, type CtrEvent, EventSchema } from "./schema";

export class Store {
	private constructor(private readonly db: Database) {}

	static open(dir: string): Store {
		mkdirSync(dir, { recursive: true, mode: 0o700 });
		const path = `${dir}/ctrnet.db`;
		const fresh = !existsSync(path);
		const db = new Database(path, { create: true, strict: true });
		// The timeout is generous: 50-100 concurrent setups queue behind each other's short writes.
		db.exec("PRAGMA busy_timeout = 30000");
		db.exec("PRAGMA journal_mode = WAL");
		db.exec("PRAGMA synchronous = NORMAL");
		if (fresh) chmodSync(path, 0o600);
		const store = new Store(db);
		store.migrate();
		return store;
	}

	private migrate(): void {
		const current = () =>
			(this.db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
		if (current() >= MIGRATIONS.length) return;
		this.db
			.transaction(() => {
				// Re-read inside the lock: another process may have migrated meanwhile.
				for (let v = current(); v < MIGRATIONS.length; v++) {
					this.db.exec(MIGRATIONS[v] as string);
					this.db.exec(`PRAGMA user_version = ${v + 1}`);
				}
			})
			.immediate();
	}

	/** The database itself, for modules that keep tables of their own (src/ipam). */
	get database(): Database {
		return this.db;
	}

	/** Runs fn in one IMMEDIATE transaction (the write lock is taken up front: no upgrade deadlock). */
	tx<T>(fn: () => T): T {
		return this.db.transaction(fn).immediate();
	}

	get(id: string): Container | undefined {
		const row = this.db.query("SELECT doc FROM containers WHERE id = ?").get(id) as {
			doc: string;
		} | null;
		return row ? ContainerSchema.parse(JSON.parse(row.doc)) : undefined;
	}

	mustGet(id: string): Container {
		const c = this.get(id);
		if (!c) throw new NotFoundError(`no container with ID ${JSON.stringify(id)}`);
		return c;
	}

	list(): Container[] {
		const rows = this.db.query("SELECT doc FROM containers ORDER BY id").all() as { doc: string }[];
		return rows.map((r) => ContainerSchema.parse(JSON.parse(r.doc)));
	}

	insert(c: Container): void {
		if (this.get(c.id)) throw new ConflictError(`container ${c.id} is already set up`);
		const byName = this.db.query("SELECT id FROM containers WHERE name = ?").get(c.name) as {
			id: string;
		} | null;
		if (byName)
			throw new ConflictError(
				`the name ${JSON.stringify(c.name)} is already used by container ${byName.id}`,
			);
		this.db
			.query("INSERT INTO containers (id, name, doc) VALUES (?, ?, ?)")
			.run(c.id, c.name, JSON.stringify(c));
	}

	put(c: Container): void {
		const doc = JSON.stringify({ ...c, updatedAt: new Date().toISOString() });
		this.db.query("UPDATE containers SET doc = ? WHERE id = ?").run(doc, c.id);
	}

	/** Read-modify-write of one container in its own transaction; returns the stored record. */
	update(id: string, fn: (c: Container) => Container): Container {
		return this.tx(() => {
			const next = fn(this.mustGet(id));
			this.put(next);
			return next;
		});
	}

	remove(id: string): void {
		this.db.query("DELETE FROM containers WHERE id = ?").run(id);
	}

	addEvent(id: string, type: CtrEvent["type"], network: string | null = null): void {
		this.db
			.query("INSERT INTO events (time, id, type, network) VALUES (?, ?, ?, ?)")
			.run(new Date().toISOString(), id, type, network);
	}

	events(): CtrEvent[] {
		const rows = this.db.query("SELECT time, id, type, network FROM events ORDER BY seq").all();
		return rows.map((r) => EventSchema.parse(r));
	}

	close(): void {
		this.db.close();
	}
}
