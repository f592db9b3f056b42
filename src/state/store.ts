// The bun:sqlite store (DESIGN 8): WAL, a busy timeout, and every change in one IMMEDIATE
// transaction, so any number of ctrnet processes can run at once without losing a row.
//
// Every record carries a revision, bumped by each write: a process that decided something on a
// read (gc: "this one is dead") carries it out only if the record is still at that revision.
// A stored row that no longer validates (written by another ctrnet version, or damaged) never
// stops the others from being listed: it is skipped with a warning, and can still be removed.
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, linkSync, mkdirSync, rmSync, statSync } from "node:fs";
import type * as z from "zod/mini";
import { ConflictError, CtrnetError, NotFoundError } from "../errors";
import { check, parseJson } from "../json";
import { log } from "../log";
import type { PortRequest } from "../ports/schema";
import { MIGRATIONS } from "./migrations";
import {
	type Container,
	ContainerSchema,
	type CtrEvent,
	EventSchema,
	type Neighbour,
	NeighbourSchema,
	type NetworkMode,
	type PortHolder,
	PortRowSchema,
} from "./schema";
import { closeGated, gateWrites, writeTransaction } from "./write-gate";

/** A row whose document does not validate: enough to name it and to delete it. */
export class UnreadableRecordError extends CtrnetError {
	override name = "UnreadableRecordError";
	constructor(
		readonly id: string,
		readonly problem: string,
	) {
		super(`the stored record of container ${id} cannot be read (${problem})`);
	}
}

/** A stored document read with `schema`; UnreadableRecordError when not JSON or not fitting. */
function decodeRow<S extends z.ZodMiniType>(schema: S, id: string, doc: string): z.infer<S> {
	let json: unknown;
	try {
		json = JSON.parse(doc);
	} catch (e) {
		throw new UnreadableRecordError(id, `not JSON: ${(e as Error).message}`);
	}
	const r = check(schema, json);
	if (!r.ok) throw new UnreadableRecordError(id, r.error);
	return r.data;
}

/** Each row read with `schema`; a row that does not fit is named in a warning and left out. */
function decodeRows<S extends z.ZodMiniType>(
	schema: S,
	rows: { id: string; doc: string }[],
): { readable: z.infer<S>[]; unreadable: UnreadableRecordError[] } {
	const readable: z.infer<S>[] = [];
	const unreadable: UnreadableRecordError[] = [];
	for (const r of rows) {
		try {
			readable.push(decodeRow(schema, r.id, r.doc));
		} catch (e) {
			if (!(e instanceof UnreadableRecordError)) throw e;
			unreadable.push(e);
			log.warn(`skipping container ${r.id}: ${e.problem}`);
		}
	}
	return { readable, unreadable };
}

/** SQLite's own words ("disk I/O error", "database or disk is full") with their subject. */
function withSubject<T>(path: string, verb: string, fn: () => T): T {
	try {
		return fn();
	} catch (e) {
		if ((e as Error).name === "SQLiteError")
			throw new CtrnetError(`cannot ${verb} the state database ${path}: ${(e as Error).message}`);
		throw e;
	}
}

function openDatabase(path: string): Database {
	const db = new Database(path, { create: false, strict: true });
	// The timeout is generous: 50-100 concurrent setups queue behind each other's short writes.
	db.exec("PRAGMA busy_timeout = 30000");
	db.exec("PRAGMA journal_mode = WAL");
	db.exec("PRAGMA synchronous = NORMAL");
	return db;
}

/**
 * A database file is created whole under a temporary name and linked into place (link fails if
 * another process won the race; then its file is used). So an empty ctrnet.db is never ctrnet's
 * own half-made one: it was truncated, and using it would forget every container silently.
 */
function createDatabase(path: string): void {
	const tmp = `${path}.new-${process.pid}`;
	try {
		const db = new Database(tmp, { create: true, strict: true });
		db.exec("PRAGMA journal_mode = WAL");
		migrate(db);
		db.close();
		chmodSync(tmp, 0o600);
		try {
			linkSync(tmp, path);
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
		}
	} finally {
		for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
	}
}

function migrate(db: Database): void {
	const current = () =>
		(db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
	if (current() >= MIGRATIONS.length) return;
	db.transaction(() => {
		// Re-read inside the lock: another process may have migrated meanwhile.
		for (let v = current(); v < MIGRATIONS.length; v++) {
			db.exec(MIGRATIONS[v] as string);
			db.exec(`PRAGMA user_version = ${v + 1}`);
		}
	}).immediate();
}

export class Store {
	/** `db` is public for modules that keep tables of their own here (src/ipam). */
	private constructor(
		readonly db: Database,
		private readonly path: string,
	) {}

	static open(dir: string): Store {
		mkdirSync(dir, { recursive: true, mode: 0o700 });
		const path = `${dir}/ctrnet.db`;
		if (!existsSync(path)) withSubject(path, "create", () => createDatabase(path));
		else if (statSync(path).size === 0) {
			throw new CtrnetError(
				`the state database ${path} is empty (0 bytes): it was truncated and every container's record is lost; move it away to start afresh (then run ctrnet gc)`,
			);
		}
		return withSubject(path, "open", () => {
			const db = openDatabase(path);
			migrate(db);
			gateWrites(db, `${path}.writers`);
			return new Store(db, path);
		});
	}

	/** Runs fn in one IMMEDIATE transaction (the write lock is taken up front: no upgrade deadlock). */
	tx<T>(fn: () => T): T {
		return withSubject(this.path, "write", () => writeTransaction(this.db, fn));
	}

	/** The stored text of a record, undefined when there is no row. */
	private docOf(id: string): string | undefined {
		const row = this.db.query("SELECT doc FROM containers WHERE id = ?").get(id) as {
			doc: string;
		} | null;
		return row?.doc;
	}

	/** The record; UnreadableRecordError when the row exists but does not validate. */
	get(id: string): Container | undefined {
		const doc = this.docOf(id);
		return doc === undefined ? undefined : decodeRow(ContainerSchema(), id, doc);
	}

	/**
	 * An unreadable record read as one being torn down: what a future (or past) ctrnet wrote with
	 * a status or operation this one does not know can still be undone from its other fields.
	 * Undefined when even that does not validate.
	 */
	salvage(id: string): Container | undefined {
		const doc = this.docOf(id);
		const json = doc === undefined ? undefined : parseJson(doc);
		if (typeof json !== "object" || json === null) return undefined;
		const r = check(ContainerSchema(), {
			...json,
			status: "removing",
			owner: null,
			op: { kind: "teardown" },
		});
		return r.ok ? r.data : undefined;
	}

	mustGet(id: string): Container {
		const c = this.get(id);
		if (!c) throw new NotFoundError(`no container with ID ${JSON.stringify(id)}`);
		return c;
	}

	/** Every readable record; an unreadable one is named in a warning and left out. */
	list(): Container[] {
		return this.listAll().readable;
	}

	/**
	 * Only the records with a network attached through the cni backend (no backend recorded means
	 * cni) whose JSON holds `text` (a bridge's name): SQLite picks them from the attachments table
	 * and a text search, so the native backend's bridge check parses none of its own containers.
	 */
	cniNeighboursMentioning(text: string): Neighbour[] {
		const rows = this.db
			.query(
				`SELECT c.id AS id, c.doc AS doc FROM containers c
				WHERE EXISTS (
					SELECT 1 FROM attachments a
					WHERE a.container_id = c.id AND (a.backend IS NULL OR a.backend = 'cni'))
				AND instr(c.doc, ?) > 0 AND json_valid(c.doc)
				ORDER BY c.id`,
			)
			.all(JSON.stringify(text));
		return decodeRows(NeighbourSchema(), rows as { id: string; doc: string }[]).readable;
	}

	/**
	 * Whether any record's network mode is `mode`, asked of SQLite (one row at most, nothing
	 * decoded): the rootless netns' release asks on every teardown. A record the schema refuses
	 * counts when its mode says so — it may still use what is being released; text that is not
	 * JSON does not.
	 */
	anyInMode(mode: NetworkMode["mode"]): boolean {
		const row = this.db
			.query(
				`SELECT 1 FROM containers
				WHERE json_valid(doc) AND json_extract(doc, '$.mode.mode') = ? LIMIT 1`,
			)
			.get(mode);
		return row !== null;
	}

	/**
	 * The containers holding host ports, from host_ports (no record is decoded), and the namespace
	 * path of container `joined` (the one a setup joins with `container:ID`), listed even without
	 * ports. With `wanted` (the new container's requests) only the ports that could clash with
	 * them are read — all of them when a request leaves its host port to chance — so the check
	 * costs the same with one stored container or a thousand.
	 */
	portHolders(opts: { joined?: string; wanted?: readonly PortRequest[] } = {}): PortHolder[] {
		const { joined, wanted } = opts;
		let where = "";
		const args: (string | number)[] = [];
		if (wanted?.every((w) => w.hostPort !== 0)) {
			where = `WHERE ${wanted.map(() => "(protocol = ? AND host_port BETWEEN ? AND ?)").join(" OR ") || "0"}`;
			for (const w of wanted) args.push(w.protocol, w.hostPort, w.hostPort + w.count - 1);
		}
		const rows = this.db
			.query(
				`SELECT container_id AS id, protocol, host_port AS hostPort FROM host_ports ${where} ORDER BY container_id, rowid`,
			)
			.all(...args);
		const byId = new Map<string, PortHolder>();
		const holder = (id: string) => {
			let h = byId.get(id);
			if (!h) {
				h = { id, netns: null, ports: [] };
				byId.set(id, h);
			}
			return h;
		};
		for (const row of rows) {
			const r = check(PortRowSchema(), row);
			if (!r.ok) {
				log.warn(`skipping a port of container ${(row as { id?: string }).id}: ${r.error}`);
				continue;
			}
			holder(r.data.id).ports.push({ protocol: r.data.protocol, hostPort: r.data.hostPort });
		}
		if (joined !== undefined) {
			const row = this.db
				.query(
					"SELECT json_extract(doc, '$.netns.path') AS path FROM containers WHERE id = ? AND json_valid(doc)",
				)
				.get(joined) as { path: unknown } | null;
			if (row) {
				const h = holder(joined);
				if (typeof row.path === "string") h.netns = { path: row.path };
			}
		}
		return [...byId.values()];
	}

	/** Keeps host_ports and attachments in step with the record (in the caller's transaction). */
	private writeIndexes(c: Container): void {
		this.db.query("DELETE FROM host_ports WHERE container_id = ?").run(c.id);
		const port = this.db.query(
			"INSERT INTO host_ports (container_id, protocol, host_port) VALUES (?, ?, ?)",
		);
		for (const p of c.ports) port.run(c.id, p.protocol, p.hostPort);
		this.db.query("DELETE FROM attachments WHERE container_id = ?").run(c.id);
		const att = this.db.query(
			"INSERT INTO attachments (container_id, network, backend) VALUES (?, ?, ?)",
		);
		for (const n of c.networks) att.run(c.id, n, c.backends[n] ?? null);
	}

	listAll(): { readable: Container[]; unreadable: UnreadableRecordError[] } {
		const rows = this.db.query("SELECT id, doc FROM containers ORDER BY id").all() as {
			id: string;
			doc: string;
		}[];
		return decodeRows(ContainerSchema(), rows);
	}

	insert(c: Container): void {
		const byId = this.db.query("SELECT id FROM containers WHERE id = ?").get(c.id);
		if (byId) throw new ConflictError(`container ${c.id} is already set up`);
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
		this.writeIndexes(c);
	}

	/** Writes the record with the next revision; returns what was stored. */
	put(c: Container): Container {
		const next = { ...c, rev: c.rev + 1, updatedAt: new Date().toISOString() };
		this.db.query("UPDATE containers SET doc = ? WHERE id = ?").run(JSON.stringify(next), c.id);
		this.writeIndexes(next);
		return next;
	}

	/** Read-modify-write of one container in its own transaction; returns the stored record. */
	update(id: string, fn: (c: Container) => Container): Container {
		return this.tx(() => this.put(fn(this.mustGet(id))));
	}

	remove(id: string): void {
		this.db.query("DELETE FROM containers WHERE id = ?").run(id);
		this.db.query("DELETE FROM host_ports WHERE container_id = ?").run(id);
		this.db.query("DELETE FROM attachments WHERE container_id = ?").run(id);
	}

	addEvent(id: string, type: CtrEvent["type"], network: string | null = null): void {
		this.db
			.query("INSERT INTO events (time, id, type, network) VALUES (?, ?, ?, ?)")
			.run(new Date().toISOString(), id, type, network);
	}

	events(): CtrEvent[] {
		const rows = this.db.query("SELECT time, id, type, network FROM events ORDER BY seq").all();
		return rows.map((r) => EventSchema().parse(r));
	}

	close(): void {
		closeGated(this.db);
	}
}
