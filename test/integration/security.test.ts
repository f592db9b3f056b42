// Attacks from the adversarial run (issue 10, items 1-4), each reproduced against the built binary:
// a plugin type that walks out of the plugin dirs, symlinks planted for the hook's bundle rewrite
// and for helper log files, a run root another user made, and setup pointed at the host's own
// network namespace. Each must be refused with one line and change nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
	chmodSync,
	chownSync,
	existsSync,
	lstatSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	statSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { spawnHelper } from "../../src/helpers/spawn";
import { stopHelper } from "../../src/helpers/stop";
import { BIN, have, requireBinary } from "../lib/cli";
import { world } from "../lib/env";
import { sh } from "../lib/host";
import { testUser } from "../lib/rootless";

beforeAll(requireBinary);
const ok = have(["ip", "unshare", "runuser"], true);
const W = world("t10-sec");
const tag = Math.random().toString(16).slice(2, 6);
const victims = mkdtempSync("/tmp/t10-victim-");

afterAll(() => {
	W.cleanup();
	rmSync(victims, { recursive: true, force: true });
});

describe.if(ok)("a plugin type holding a path is never run", () => {
	test("setup and cni add refuse it; the planted program does not run", async () => {
		const marker = `${victims}/ran`;
		const evil = `${victims}/evil`;
		writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\necho '{"cniVersion":"1.0.0"}'\n`);
		chmodSync(evil, 0o755);
		mkdirSync(W.env.CTRNET_CNI_CONFIG_DIR, { recursive: true });
		// Relative to /usr/lib/cni (a plugin dir): ../../../<victims>/evil.
		const type = `../../..${evil}`;
		writeFileSync(
			`${W.env.CTRNET_CNI_CONFIG_DIR}/t10-evil.conflist`,
			JSON.stringify({ cniVersion: "1.0.0", name: "t10-evil", plugins: [{ type }] }),
		);
		const r = await W.run(["setup", `t10-${tag}-plug`, "--network", "t10-evil"]);
		expect(r.code).toBe(125);
		expect(r.stderr).toContain("invalid plugin name");
		expect(r.stderr.trim().split("\n")).toHaveLength(1);
		const ns = `t10-${tag}-pl`;
		sh(["ip", "netns", "add", ns]);
		try {
			const c = await W.run(["cni", "add", "t10-evil", `/run/netns/${ns}`]);
			expect(c.code).toBe(125);
		} finally {
			sh(["ip", "netns", "del", ns]);
		}
		expect(existsSync(marker)).toBe(false);
		expect((await W.json<unknown[]>(["ps", "--format", "json"])).length).toBe(0);
	});
});

describe.if(ok)("hook inject over a bundle another user owns", () => {
	const user = testUser();
	const bundle = `${victims}/bundle`;
	const config = { ociVersion: "1.0.2", process: { args: ["sh"] }, root: { path: "rootfs" } };

	beforeAll(() => {
		mkdirSync(bundle);
		writeFileSync(`${bundle}/config.json`, JSON.stringify(config), { mode: 0o640 });
		if (user) {
			chownSync(bundle, user.uid, user.gid);
			chownSync(`${bundle}/config.json`, user.uid, user.gid);
		}
	});

	test("planted symlinks at every name a temp file could take are not followed", async () => {
		// The old temp name was config.json.ctrnet-<pid>.tmp: plant it for a range of pids.
		const target = `${victims}/clobbered.conflist`;
		for (let pid = 1; pid < 4000; pid += 1)
			symlinkSync(target, `${bundle}/config.json.ctrnet-${pid}.tmp`);
		const r = await W.run([
			"hook",
			"inject",
			bundle,
			"--network",
			"none",
			"--path",
			"/usr/bin/true",
		]);
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		expect(existsSync(target)).toBe(false);
		const st = statSync(`${bundle}/config.json`);
		expect(st.mode & 0o777).toBe(0o640);
		if (user) expect([st.uid, st.gid]).toEqual([user.uid, user.gid]);
		const doc = JSON.parse(readFileSync(`${bundle}/config.json`, "utf8"));
		expect(doc.hooks.createRuntime[0].args.slice(1, 3)).toEqual(["hook", "createRuntime"]);
	});

	test("config.json that is a symlink is refused, its target untouched", async () => {
		const secret = `${victims}/secret.json`;
		writeFileSync(secret, JSON.stringify(config));
		const before = readFileSync(secret, "utf8");
		rmSync(`${bundle}/config.json`);
		symlinkSync(secret, `${bundle}/config.json`);
		const r = await W.run(["hook", "inject", bundle, "--path", "/usr/bin/true"]);
		expect(r.code).toBe(125);
		expect(r.stderr).toContain("is a symlink");
		expect(readFileSync(secret, "utf8")).toBe(before);
		expect(lstatSync(`${bundle}/config.json`).isSymbolicLink()).toBe(true);
	});
});

describe.if(ok)("rootless run root and helper logs", () => {
	test("a run root another user created is refused before anything is written", async () => {
		const user = testUser();
		if (!user) return expect(process.env.CI).not.toBe("true");
		const planted = `${user.dir}/planted`;
		mkdirSync(planted, { mode: 0o777 }); // made by root: not the user's
		chmodSync(planted, 0o777);
		const p = Bun.spawnSync(
			["runuser", "-u", "ctrnet-test", "--", BIN, "setup", `t10-${tag}-rr`, "--pid", "1"],
			{
				env: {
					PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
					HOME: user.dir,
					CTRNET_ROOT: `${user.dir}/state`,
					CTRNET_RUN_ROOT: `${planted}/ctrnet`,
				},
				stderr: "pipe",
			},
		);
		expect(p.exitCode).toBe(125);
		expect(p.stderr.toString()).toMatch(
			/^Error: refusing to use .*planted.*(owned by uid 0|writable by other)/,
		);
		expect(existsSync(`${planted}/ctrnet`)).toBe(false);
	});

	test("a symlink planted at a helper's log path is replaced, its target not truncated", async () => {
		const victim = `${victims}/victim.txt`;
		writeFileSync(victim, "precious\n");
		const dir = mkdtempSync("/tmp/t10-log-");
		symlinkSync(victim, `${dir}/helper.log`);
		const h = await spawnHelper({
			name: "sh",
			cmd: ["sh", "-c", "echo 1 >&4; exec sleep 30"],
			logPath: `${dir}/helper.log`,
			timeoutMs: 5000,
		});
		await stopHelper(h);
		expect(readFileSync(victim, "utf8")).toBe("precious\n");
		expect(existsSync(`${dir}/helper.log`)).toBe(false); // unlinked after opening
		rmSync(dir, { recursive: true, force: true });
	});
});

describe.if(ok)("the host's own network namespace is never configured", () => {
	for (const [what, args] of [
		["--pid of a process in the host netns", ["--pid", String(process.pid)]],
		["--netns /proc/PID/ns/net of a host process", ["--netns", `/proc/${process.pid}/ns/net`]],
		["--netns /proc/self/ns/net", ["--netns", "/proc/self/ns/net"]],
	] as const) {
		test(what, async () => {
			const linksBefore = sh(["ip", "-o", "link"]).out;
			const r = await W.run(["setup", `t10-${tag}-host`, "--network", "none", ...args]);
			expect(r.code).toBe(125);
			expect(r.stderr).toMatch(/^Error: .*the host's network namespace/);
			expect(sh(["ip", "-o", "link"]).out).toBe(linksBefore);
			expect((await W.json<unknown[]>(["ps", "--format", "json"])).length).toBe(0);
		});
	}
});
