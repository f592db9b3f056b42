// The sqlite store, for real, in a temp dir; concurrency across processes is an integration test.

import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { lockFileSync } from "../../src/files/lock";
import { MIGRATIONS } from "../../src/state/migrations";
import type { Container } from "../../src/state/schema";
import { Store } from "../../src/state/store";
import { record } from "../lib/record";

const ROOT = resolve(import.meta.dir, "../..");

const dirs: string[] = [];
afterEach(() => {
	for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed after the test. */
function tempDir(): string {
	const d = mkdtempSync(`${tmpdir()}/ctrnet-store-`);
	dirs.push(d);
	return d;
}

function fresh(): Store {
	return Store.open(`${tempDir()}/state`);
}

/**
 * Runs `code` (with `Store` imported and the state dir in `dir`) in another bun process; `done`
 * gives its exit code and stderr.
 */
function storeInAnotherProcess(dir: string, code: string) {
	const p = Bun.spawn(
		[process.execPath, "-e", `import { Store } from "${ROOT}/src/state/store.ts";\n${code}`],
		{ env: { ...process.env, TDIR: dir }, stderr: "pipe" },
	);
	return {
		proc: p,
		done: async () => [await p.exited, await new Response(p.stderr).text()],
	};
}

const rec = (id: string, name = id): Container =>
	record({ id, name, status: "creating", owner: { pid: 1, startTime: "1" }, netns: null });

test("insert, get, update, list, remove", () => {
	const s = fresh();
	s.insert(rec("a"));
	s.insert(rec("b"));
	expect(s.get("a")?.status).toBe("creating");
	s.update("a", (c) => ({ ...c, status: "ready" }));
	expect(s.mustGet("a").status).toBe("ready");
	expect(s.list().map((c) => c.id)).toEqual(["a", "b"]);
	s.remove("a");
	expect(s.get("a")).toBeUndefined();
	expect(() => s.mustGet("a")).toThrow(/no container/);
});

test("duplicate ID or name is refused", () => {
	const s = fresh();
	s.insert(rec("a", "web"));
	expect(() => s.insert(rec("a", "other"))).toThrow("container a is already set up");
	expect(() => s.insert(rec("b", "web"))).toThrow(/name "web" is already used/);
});

test("events keep their order", () => {
	const s = fresh();
	s.addEvent("a", "setup", "n1");
	s.addEvent("a", "teardown");
	expect(s.events().map((e) => [e.type, e.network])).toEqual([
		["setup", "n1"],
		["teardown", null],
	]);
});

test("database file is 0600 and a reopened store sees the rows", () => {
	const d = tempDir();
	const s = Store.open(`${d}/state`);
	s.insert(rec("x"));
	s.close();
	expect(statSync(`${d}/state/ctrnet.db`).mode & 0o777).toBe(0o600);
	expect(statSync(`${d}/state`).mode & 0o777).toBe(0o700);
	expect(Store.open(`${d}/state`).get("x")?.id).toBe("x");
});

test("a corrupt record is an error, not silently dropped", () => {
	const s = fresh();
	const bad = { ...rec("z"), status: "weird" } as unknown as Container;
	s.insert(bad);
	expect(() => s.get("z")).toThrow();
});

test("portHolders: every container's host ports, kept in step with its record", () => {
	const s = fresh();
	const port = { hostIP: "", hostPort: 8080, containerPort: 80, protocol: "tcp" as const };
	s.insert({ ...rec("a"), ports: [port, { ...port, hostPort: 8081, protocol: "udp" }] });
	s.insert({ ...rec("n"), netns: { path: "/run/netns/n", owned: true } });
	s.insert({ ...rec("r"), ports: [{ ...port, hostPort: 7070 }] });
	expect(s.portHolders()).toEqual([
		{
			id: "a",
			netns: null,
			ports: [
				{ protocol: "tcp", hostPort: 8080 },
				{ protocol: "udp", hostPort: 8081 },
			],
		},
		{ id: "r", netns: null, ports: [{ protocol: "tcp", hostPort: 7070 }] },
	]);
	// a rewrite follows the record; a removed record's ports are free again
	s.update("a", (c) => ({ ...c, ports: [{ ...port, hostPort: 8082 }] }));
	s.remove("r");
	// the container a setup joins comes with its namespace, also without ports
	expect(s.portHolders({ joined: "n" })).toEqual([
		{ id: "a", netns: null, ports: [{ protocol: "tcp", hostPort: 8082 }] },
		{ id: "n", netns: { path: "/run/netns/n" }, ports: [] },
	]);
	// only what could clash with the ports asked for is read: all of it when one is left to chance
	const want = (hostPort: number, count = 1, protocol: "tcp" | "udp" = "tcp") => ({
		hostIP: "",
		hostPort,
		containerPort: 80,
		count,
		protocol,
	});
	expect(s.portHolders({ wanted: [want(8080, 3)] }).map((h) => h.ports)).toEqual([
		[{ protocol: "tcp", hostPort: 8082 }],
	]);
	expect(s.portHolders({ wanted: [want(8082, 1, "udp")] })).toEqual([]);
	expect(s.portHolders({ wanted: [] })).toEqual([]);
	expect(s.portHolders({ wanted: [want(9000), want(0)] }).map((h) => h.id)).toEqual(["a"]);
	// a record that became unreadable still holds its ports (they were written with it)
	s.db.query("UPDATE containers SET doc = 'not json' WHERE id = 'a'").run();
	expect(s.portHolders().map((h) => h.id)).toEqual(["a"]);
});

test("a database made before host_ports and attachments gets them filled from the stored records", () => {
	const d = tempDir();
	mkdirSync(`${d}/state`, { mode: 0o700 });
	const db = new Database(`${d}/state/ctrnet.db`, { create: true, strict: true });
	for (const m of MIGRATIONS.slice(0, 2)) db.exec(m);
	db.exec("PRAGMA user_version = 2");
	const port = { hostIP: "", hostPort: 8080, containerPort: 80, protocol: "tcp" as const };
	const raw = (id: string, doc: string) =>
		db.query("INSERT INTO containers (id, name, doc) VALUES (?, ?, ?)").run(id, id, doc);
	raw("a", JSON.stringify({ ...rec("a"), ports: [port, { ...port, hostPort: 8081 }] }));
	raw("b", JSON.stringify({ ...rec("b"), status: "paused", ports: [{ ...port, hostPort: 9090 }] }));
	raw("c", "not json");
	raw("d", JSON.stringify({ ...rec("d"), ports: [{ ...port, hostPort: null }] }));
	// attachments: "e" with no backend recorded (cni), "f" native
	const att = { results: { n: { interfaces: [{ name: "br-m" }] } } };
	raw("e", JSON.stringify({ ...rec("e"), ...att, networks: ["n"] }));
	raw("f", JSON.stringify({ ...rec("f"), ...att, networks: ["n"], backends: { n: "native" } }));
	db.close();
	expect(Store.open(`${d}/state`).portHolders()).toEqual([
		{
			id: "a",
			netns: null,
			ports: [
				{ protocol: "tcp", hostPort: 8080 },
				{ protocol: "tcp", hostPort: 8081 },
			],
		},
		{ id: "b", netns: null, ports: [{ protocol: "tcp", hostPort: 9090 }] },
	]);
	expect(
		Store.open(`${d}/state`)
			.cniNeighboursMentioning("br-m")
			.map((c) => c.id),
	).toEqual(["e"]);
});

test("writers queue on ctrnet.db.writers: a write waits while another process holds it", async () => {
	const d = tempDir();
	const s = Store.open(`${d}/state`);
	s.insert(rec("a"));
	// nested write transactions of one process do not wait for themselves
	s.tx(() => s.tx(() => s.update("a", (c) => ({ ...c, status: "ready" }))));
	const held = lockFileSync(`${d}/state/ctrnet.db.writers`, "exclusive");
	const other = storeInAnotherProcess(
		`${d}/state`,
		`const s = Store.open(process.env.TDIR); s.tx(() => s.remove("a"));`,
	);
	await Bun.sleep(500);
	expect(s.get("a")?.status).toBe("ready"); // still there: the other writer waits
	held.release();
	expect(await other.done()).toEqual([0, ""]);
	expect(s.get("a")).toBeUndefined();
});

test("a store is closed under the writers' gate when its process exits (SQLite's close checkpoints)", async () => {
	const d = tempDir();
	Store.open(`${d}/state`).close();
	const held = lockFileSync(`${d}/state/ctrnet.db.writers`, "exclusive");
	const other = storeInAnotherProcess(`${d}/state`, `Store.open(process.env.TDIR).get("x");`);
	await Bun.sleep(500);
	expect(other.proc.exitCode).toBeNull(); // its exit waits for the gate
	held.release();
	expect(await other.done()).toEqual([0, ""]);
});

test("cniNeighboursMentioning: only records naming that string, with a cni attachment", () => {
	const s = fresh();
	const att = (net: string, bridge: string) => ({
		networks: [net],
		results: { [net]: { interfaces: [{ name: bridge }] } },
	});
	s.insert({ ...rec("a"), ...att("x", "br-one") });
	s.insert({ ...rec("b"), ...att("y", "br-two") });
	s.insert({ ...rec("c"), ...att("z", "br-two"), backends: { z: "native" } });
	s.insert({ ...rec("d"), ...att("w", "br-two"), backends: { w: "cni" } });
	const found = s.cniNeighboursMentioning("br-two");
	expect(found.map((c) => c.id)).toEqual(["b", "d"]);
	expect(Object.keys(found[0] ?? {}).sort()).toEqual(
		["backends", "id", "networks", "results"].sort(),
	);
	expect(s.cniNeighboursMentioning("br-").map((c) => c.id)).toEqual([]); // a whole JSON string
	// the attachments follow the record: rewritten, removed
	s.update("b", (c) => ({ ...c, backends: { y: "native" } }));
	s.remove("d");
	expect(s.cniNeighboursMentioning("br-two")).toEqual([]);
});

test("anyInMode: a record in that mode, found by SQLite; refused records count, non-JSON not", () => {
	const s = fresh();
	expect(s.anyInMode("bridge")).toBe(false);
	s.insert({ ...rec("a"), mode: { mode: "slirp4netns", options: [] } });
	const raw = (id: string, doc: string) =>
		s.db.query("INSERT INTO containers (id, name, doc) VALUES (?, ?, ?)").run(id, id, doc);
	raw("c", `not json {"mode":{"mode":"bridge"}}`);
	expect(s.anyInMode("bridge")).toBe(false);
	expect(s.anyInMode("slirp4netns")).toBe(true);
	s.insert({ ...rec("b"), mode: { mode: "bridge", networks: ["n"] } });
	expect(s.anyInMode("bridge")).toBe(true);
	s.remove("b");
	raw("d", JSON.stringify({ ...rec("d"), status: "weird", mode: { mode: "bridge" } }));
	expect(s.anyInMode("bridge")).toBe(true);
});
