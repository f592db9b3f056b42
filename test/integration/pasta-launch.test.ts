// The pasta launcher (src/helpers/pasta.ts) with the real pasta, as root, in throw-away named
// namespaces (a "host" with a veth uplink, so that pasta has something to copy, and the
// container's): ready means the started process exited 0 and the background one runs; every way
// of not starting leaves nothing running and says why in pasta's words.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { inNetns } from "../../ffi/netns";
import { startPasta } from "../../src/helpers/pasta";
import { stopHelper } from "../../src/helpers/stop";
import { buildPastaArgs } from "../../src/pasta/argv";
import { parsePastaOptions } from "../../src/pasta/options";
import { isAlive } from "../../src/process/identity";
import { have } from "../lib/cli";
import { must, processesMatching, sh } from "../lib/host";

const ok = have(["ip", "pasta"], true);
const tag = Math.random().toString(16).slice(2, 6);
const HOST = `tpa-lh-${tag}`;
const CTR = `tpa-lc-${tag}`;
const tmp = mkdtempSync("/tmp/tpa-launch-");
const pasta = Bun.which("pasta") as string;

function args(user: string[]) {
	return buildPastaArgs({
		options: parsePastaOptions([]),
		ports: [],
		netnsPath: `/run/netns/${CTR}`,
		pidFile: `${tmp}/pasta.pid`,
		root: true,
	}).args.concat(user);
}

/** startPasta run from inside the "host" namespace (pasta copies the namespace it starts in). */
function start(user: string[], timeoutMs?: number) {
	return inNetns(`/run/netns/${HOST}`, () => ({
		started: startPasta({
			binary: pasta,
			args: args(user),
			pidFile: `${tmp}/pasta.pid`,
			logPath: `${tmp}/pasta.log`,
			...(timeoutMs ? { timeoutMs } : {}),
		}),
	})).started;
}

beforeAll(() => {
	if (!ok) return;
	for (const cmd of [
		["ip", "netns", "add", HOST],
		["ip", "netns", "add", CTR],
		["ip", "-n", HOST, "link", "add", `tpa${tag}l`, "type", "veth", "peer", "name", "peer0"],
		["ip", "-n", HOST, "addr", "add", "10.238.253.2/24", "dev", `tpa${tag}l`],
		["ip", "-n", HOST, "link", "set", `tpa${tag}l`, "up"],
		["ip", "-n", HOST, "link", "set", "peer0", "up"],
		["ip", "-n", HOST, "route", "add", "default", "via", "10.238.253.1"],
	])
		must(cmd);
});

afterAll(() => {
	const left = processesMatching(tmp);
	sh(["ip", "netns", "del", HOST]);
	sh(["ip", "netns", "del", CTR]);
	rmSync(tmp, { recursive: true, force: true });
	expect(left).toEqual([]);
});

describe.if(ok)("startPasta", () => {
	test("ready: the background pasta runs, is identified, and stops; its files are gone", async () => {
		const p = await start([]);
		expect(isAlive(p)).toBe(true);
		expect(p.exitWriteFd).toBeNull();
		expect(readdirSync(tmp)).toEqual([]); // pid file read and removed, log unlinked
		expect(sh(["ip", "-n", CTR, "-o", "addr", "show", `tpa${tag}l`]).out).toContain(
			"inet 10.238.253.2/24",
		);
		expect(await stopHelper(p)).toBe(true);
		expect(isAlive(p)).toBe(false);
	});

	test("a refused option: pasta's exit code and message, nothing left", async () => {
		await expect(start(["--bogus"])).rejects.toThrow(
			/^pasta failed with exit code 1: .*unrecognized option '--bogus'$/,
		);
		expect(processesMatching(tmp)).toEqual([]);
		expect(readdirSync(tmp)).toEqual([]);
	});

	test("a namespace that is not there: pasta's message", async () => {
		const bad = args([]).map((a) => (a === `/run/netns/${CTR}` ? "/run/netns/tpa-none" : a));
		const run = inNetns(`/run/netns/${HOST}`, () => ({
			p: startPasta({
				binary: pasta,
				args: bad,
				pidFile: `${tmp}/pasta.pid`,
				logPath: `${tmp}/pasta.log`,
			}),
		})).p;
		await expect(run).rejects.toThrow(/^pasta failed with exit code 1: /);
	});

	test("one that never goes to the background times out and is killed", async () => {
		const t0 = Date.now();
		await expect(start(["-f"], 700)).rejects.toThrow(/^pasta did not start within 700 ms/);
		expect(Date.now() - t0).toBeLessThan(5000);
		for (let i = 0; i < 100 && processesMatching(tmp).length > 0; i++) await Bun.sleep(20);
		expect(processesMatching(tmp)).toEqual([]);
	});

	test("a binary that cannot run says so", async () => {
		await expect(
			startPasta({
				binary: `${tmp}/no-such-pasta`,
				args: [],
				pidFile: `${tmp}/p.pid`,
				logPath: `${tmp}/l.log`,
			}),
		).rejects.toThrow(/^failed to start pasta: /);
	});
});
