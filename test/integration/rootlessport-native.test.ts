// The forwarder's native helper (ffi/pump.c) is built once at build time and loaded without a
// shared temporary directory (issue 10 item 15: bun:ffi's cc left a `.<hash>-0.bun-cc` dir in
// /tmp on every root start once a rootless forwarder, uid 0 in its user namespace, had made a
// `bun-cc-0` owned by the user). And ffi/compiled.ts' cache fallback: a private directory only.
// Root: forwarders run in their own network and mount namespaces, with a directory of the test's
// bound on /tmp, so what they leave in /tmp is theirs alone.

import { FFIType as T } from "bun:ffi";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
	chmodSync,
	chownSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	statSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import so from "../../ffi/build/pump.so" with { type: "file" };
import { CompiledLoadError, loadCompiled } from "../../ffi/compiled";
import { BIN, have, requireBinary } from "../lib/cli";
import { spawnForwarder, testUser, uniq } from "../lib/rootless";

const ok = have(["ip", "bash", "unshare", "setpriv", "mount"], true);
const CHILD_IP = "10.233.2.100";

/**
 * Runs dist/ctrnet as rootlessport in a new netns (lo up, CHILD_IP on it) with `tmp` on /tmp;
 * as `user` inside a user namespace of its own (uid 0 there) when given. Waits until ready,
 * then stops it through its exit fd.
 */
async function runForwarder(tmp: string, user?: { uid: number; gid: number }) {
	// The binary is run through fd 9, opened before /tmp is covered: a checkout under /tmp (a CI
	// clone) would be hidden by the bind mount.
	const inner = `ip link set lo up && ip addr add ${CHILD_IP}/32 dev lo && exec -a rootlessport /proc/self/fd/9`;
	const cmd = user
		? [
				"unshare",
				"--mount",
				"--propagation",
				"private",
				"bash",
				"-c",
				`exec 9<"$0" && mount --bind "$1" /tmp && exec setpriv --reuid=${user.uid} --regid=${user.gid} --clear-groups unshare --user --map-root-user --net bash -c '${inner}' "$0"`,
				BIN,
				tmp,
			]
		: [
				"unshare",
				"--mount",
				"--net",
				"--propagation",
				"private",
				"bash",
				"-c",
				`exec 9<"$0" && mount --bind "$1" /tmp && ${inner}`,
				BIN,
				tmp,
			];
	const config = {
		Mappings: [{ hostIP: "127.0.0.1", hostPort: 18000, containerPort: 80, protocol: "tcp" }],
		NetNSPath: "/proc/self/ns/net",
		ExitFD: 3,
		ReadyFD: 4,
		TmpDir: "/tmp", // inside its mount namespace: `tmp`
		ChildIP: CHILD_IP,
		ContainerID: `trlp-${uniq()}`,
	};
	const f = spawnForwarder(config, {
		cmd,
		env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
	});
	try {
		expect(await f.ready).toBe("1");
	} finally {
		f.stop();
	}
	expect(await f.proc.exited).toBe(0);
	// The splice engine ran: the native helper was loaded.
	expect(await f.stderr).toContain("(splice)");
}

describe.skipIf(!ok)("the native helper leaves nothing in /tmp", () => {
	let tmp: string;
	beforeAll(() => {
		requireBinary();
		tmp = mkdtempSync("/tmp/trlp-native-");
		chmodSync(tmp, 0o1777);
	});
	afterAll(() => {
		if (tmp) rmSync(tmp, { recursive: true, force: true });
	});

	test("a rootless forwarder, then root forwarders: /tmp stays empty", async () => {
		const user = testUser();
		if (!user) return;
		rmSync(user.dir, { recursive: true, force: true });
		await runForwarder(tmp, user);
		expect(readdirSync(tmp)).toEqual([]);
		// What the rootless forwarder made before the fix; root's then made a new dir per start.
		mkdirSync(`${tmp}/bun-cc-0`, { mode: 0o700 });
		chownSync(`${tmp}/bun-cc-0`, user.uid, user.gid);
		for (let i = 0; i < 5; i++) await runForwarder(tmp);
		expect(readdirSync(tmp)).toEqual(["bun-cc-0"]);
	});
});

const symbols = { rp_conns: { args: [], returns: T.i32 } } as const;

describe.skipIf(!ok)("loadCompiled", () => {
	let dir: string;
	beforeAll(() => {
		dir = mkdtempSync("/tmp/trlp-native-");
	});
	afterAll(() => {
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	test("from memory: a memfd, no file anywhere", () => {
		const lib = loadCompiled(`trlp-memfd-${uniq()}`, so, symbols);
		expect(lib.symbols.rp_conns()).toBe(0);
		expect(readFileSync("/proc/self/maps", "utf8")).toContain("/memfd:ctrnet-trlp-memfd-");
	});

	test("without memfd: a private cache dir, made 0700, one file 0600, no temp file left", () => {
		const cache = `${dir}/cache`;
		const name = `trlp-cache-${uniq()}`;
		const lib = loadCompiled(name, so, symbols, { cacheDir: cache, memfd: false });
		expect(lib.symbols.rp_conns()).toBe(0);
		expect(statSync(cache).mode & 0o7777).toBe(0o700);
		const files = readdirSync(cache);
		expect(files).toHaveLength(1);
		expect(files[0]).toMatch(new RegExp(`^${name}-[0-9a-f]{16}\\.so$`));
		expect(statSync(`${cache}/${files[0]}`).mode & 0o777).toBe(0o600);
		expect(readFileSync(`${cache}/${files[0]}`).equals(readFileSync(so))).toBe(true);

		// A file there with other bytes (say, an older build) is replaced, not trusted.
		const planted = `${cache}/${files[0]}`;
		writeFileSync(planted, "not a library", { mode: 0o600 });
		const again = loadCompiled(`${name}x`, so, symbols, { cacheDir: cache, memfd: false });
		expect(again.symbols.rp_conns()).toBe(0);
		expect(readdirSync(cache).filter((f) => f.endsWith(".tmp"))).toEqual([]);
	});

	test("without memfd: a cache dir others can write, or not ours, or a symlink, is refused", () => {
		const user = testUser();
		if (!user) return;
		rmSync(user.dir, { recursive: true, force: true });
		const cases: [string, () => void, string][] = [
			["group", () => mkdirSync(`${dir}/group`, { mode: 0o770 }), "writable by group or others"],
			[
				"theirs",
				() => {
					mkdirSync(`${dir}/theirs`, { mode: 0o700 });
					chownSync(`${dir}/theirs`, user.uid, user.gid);
				},
				`owned by uid ${user.uid}`,
			],
			[
				"link",
				() => {
					mkdirSync(`${dir}/real`, { mode: 0o700 });
					symlinkSync(`${dir}/real`, `${dir}/link`);
				},
				"a symbolic link",
			],
		];
		for (const [sub, make, why] of cases) {
			make();
			if (sub === "group") chmodSync(`${dir}/group`, 0o770);
			let err: unknown;
			try {
				loadCompiled(`trlp-refuse-${uniq()}`, so, symbols, {
					cacheDir: `${dir}/${sub}`,
					memfd: false,
				});
			} catch (e) {
				err = e;
			}
			expect(err).toBeInstanceOf(CompiledLoadError);
			expect(String(err)).toContain(why);
			expect(readdirSync(`${dir}/${sub}`)).toEqual([]);
		}
	});
});
