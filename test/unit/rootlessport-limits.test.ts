// The forwarder's pure policies: caps from the fd limit, the bounded log, the LRU flow table.
import { describe, expect, test } from "bun:test";
import { FlowTable } from "../../src/rootlessport/flows";
import {
	BASE_FDS,
	capsFor,
	MAX_TCP_CONNS,
	MAX_UDP_FLOWS,
	openFilesLimit,
} from "../../src/rootlessport/limits";
import { boundedLog } from "../../src/rootlessport/log";

describe("caps", () => {
	test("the fd limit from /proc/self/limits", () => {
		const text = [
			"Limit                     Soft Limit           Hard Limit           Units     ",
			"Max processes             96365                96365                processes ",
			"Max open files            1024                 524288               files     ",
		].join("\n");
		expect(openFilesLimit(text)).toBe(1024);
		expect(openFilesLimit("Max open files  unlimited  unlimited  files")).toBe(
			Number.POSITIVE_INFINITY,
		);
		expect(openFilesLimit("")).toBeUndefined();
	});

	test("UDP flows get a quarter of the spare fds when TCP is forwarded too; both have ceilings", () => {
		const both = { listeners: 2, tcp: true, udp: true, fdsPerConn: 6 };
		const small = capsFor({ ...both, nofile: 256 });
		expect(small.udpFlows).toBe(Math.floor((256 - BASE_FDS - 2) / 4));
		expect(small.tcpConns).toBe(Math.floor((256 - BASE_FDS - 2 - small.udpFlows) / 6));
		// Everything together fits under the limit, with BASE_FDS left for the process.
		expect(small.udpFlows + 6 * small.tcpConns + 2 + BASE_FDS).toBeLessThanOrEqual(256);
		expect(capsFor({ ...both, nofile: 1 << 20 })).toEqual({
			udpFlows: MAX_UDP_FLOWS,
			tcpConns: MAX_TCP_CONNS,
		});
	});

	test("one protocol only: it gets the spare fds; a tiny limit still allows one of each", () => {
		expect(capsFor({ nofile: 1024, listeners: 1, tcp: false, udp: true, fdsPerConn: 6 })).toEqual({
			udpFlows: 1024 - BASE_FDS - 1,
			tcpConns: 1, // not forwarded, and never 0
		});
		expect(capsFor({ nofile: 1024, listeners: 1, tcp: true, udp: false, fdsPerConn: 2 })).toEqual({
			udpFlows: 0,
			tcpConns: Math.floor((1024 - BASE_FDS - 1) / 2),
		});
		expect(capsFor({ nofile: 10, listeners: 1, tcp: true, udp: true, fdsPerConn: 6 })).toEqual({
			udpFlows: 2,
			tcpConns: 1,
		});
	});
});

describe("boundedLog", () => {
	const setup = (budget = 1 << 20) => {
		const out: string[] = [];
		let t = 0;
		const { log, flush } = boundedLog(
			(s) => out.push(s),
			{ windowMs: 1000, perWindow: 3, budget },
			() => t,
		);
		return { out, log, flush, at: (ms: number) => (t = ms) };
	};

	test("a repeated kind: a few lines a window, then one summary", () => {
		const { out, log, at } = setup();
		for (let i = 0; i < 100; i++) log(`send failed ${i}`, "udp 53 send");
		expect(out).toEqual([
			"rootlessport: send failed 0\n",
			"rootlessport: send failed 1\n",
			"rootlessport: send failed 2\n",
		]);
		at(1000);
		log("send failed again", "udp 53 send");
		expect(out.slice(3)).toEqual([
			'rootlessport: 97 more "udp 53 send" message(s) not logged\n',
			"rootlessport: send failed again\n",
		]);
	});

	test("kinds are limited apart; one-offs are not rate-limited; flush writes pending summaries", () => {
		const { out, log, flush } = setup();
		for (let i = 0; i < 5; i++) log("a", "A");
		for (let i = 0; i < 5; i++) log("b", "B");
		for (let i = 0; i < 5; i++) log("listening");
		expect(out.filter((l) => l === "rootlessport: a\n")).toHaveLength(3);
		expect(out.filter((l) => l === "rootlessport: b\n")).toHaveLength(3);
		expect(out.filter((l) => l === "rootlessport: listening\n")).toHaveLength(5);
		flush();
		expect(out.slice(-2)).toEqual([
			'rootlessport: 2 more "A" message(s) not logged\n',
			'rootlessport: 2 more "B" message(s) not logged\n',
		]);
		flush();
		expect(out).toHaveLength(13);
	});

	test("the whole log never exceeds its budget, however many kinds and windows", () => {
		const { out, log, at } = setup(4096);
		for (let w = 0; w < 1000; w++) {
			at(w * 1000);
			for (let k = 0; k < 20; k++) log(`message of kind ${k} in window ${w}`, `kind ${k}`);
		}
		const total = out.join("").length;
		expect(total).toBeLessThanOrEqual(4096);
		expect(out.at(-1)).toBe("rootlessport: log limit reached; later messages are dropped\n");
	});
});

describe("FlowTable", () => {
	const flow = (name: string, closed: string[]) => ({ name, close: () => closed.push(name) });

	test("beyond the cap the least recently used flow is closed", () => {
		const closed: string[] = [];
		const t = new FlowTable<ReturnType<typeof flow>>(3);
		for (const k of ["a", "b", "c"]) expect(t.add(k, flow(k, closed))).toBe(0);
		t.use("a"); // a is now the most recently used: b is the oldest
		expect(t.add("d", flow("d", closed))).toBe(1);
		expect(closed).toEqual(["b"]);
		expect(t.use("b")).toBeUndefined();
		expect(t.size).toBe(3);
	});

	test("drop, closeWhere by prefix and predicate, replacing a key", () => {
		const closed: string[] = [];
		const t = new FlowTable<ReturnType<typeof flow>>(10);
		const a = flow("p1|a", closed);
		t.add("p1|a", a);
		t.add("p1|b", flow("p1|b", closed));
		t.add("p2|a", flow("p2|a", closed));
		t.add("p1|a", flow("p1|a2", closed)); // the old flow under the key is closed
		expect(closed).toEqual(["p1|a"]);
		t.drop("p1|a", a); // no longer the one under the key: only closed again, entry stays
		expect(t.size).toBe(3);
		expect(t.closeWhere("p1|", (f) => f.name === "p1|b")).toBe(1);
		expect(t.closeWhere("p1|")).toBe(1);
		expect(t.size).toBe(1);
		expect(t.use("p2|a")?.name).toBe("p2|a");
	});
});
