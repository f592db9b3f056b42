// A private ctrnet world for one test file: its own state dir, CNI config and cache dirs and
// netns dir, so tests running side by side never see each other's containers or networks.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { MNT_DETACH, umount2 } from "../../ffi/libc";
import * as NS from "../../src/netns";
import { ctrnet, type RunResult } from "./cli";
import { mountsUnder } from "./host";

export const FIXTURE_PLUGINS = resolve(import.meta.dir, "../fixtures/cni-plugins");

export interface World {
	dir: string;
	env: Record<string, string> & {
		CTRNET_ROOT: string;
		CTRNET_RUN_ROOT: string;
		CTRNET_NETNS_DIR: string;
		CTRNET_CNI_CONFIG_DIR: string;
		CTRNET_CNI_CACHE_DIR: string;
		CTRNET_NETWORK_CONFIG_DIR: string;
	};
	run(args: string[], opts?: { stdin?: string; env?: Record<string, string> }): Promise<RunResult>;
	/** Runs and parses stdout as JSON; throws with stderr when the command failed. */
	json<T = unknown>(args: string[]): Promise<T>;
	cleanup(): void;
}

export function world(prefix: string): World {
	const dir = mkdtempSync(`${tmpdir()}/${prefix}-`);
	const env = {
		CTRNET_ROOT: `${dir}/state`,
		CTRNET_RUN_ROOT: `${dir}/run`,
		CTRNET_NETNS_DIR: `${dir}/netns`,
		CTRNET_CNI_CONFIG_DIR: `${dir}/net.d`,
		CTRNET_CNI_CACHE_DIR: `${dir}/cache`,
		CTRNET_NETWORK_CONFIG_DIR: `${dir}/networks`,
		CNI_PATH: `/usr/lib/cni:${FIXTURE_PLUGINS}`,
	};
	const run = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
		ctrnet(args, { stdin: opts.stdin, env: { ...env, ...opts.env } });
	return {
		dir,
		env,
		run,
		async json<T>(args: string[]) {
			const r = await run(args);
			if (r.code !== 0) throw new Error(`ctrnet ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
			return JSON.parse(r.stdout) as T;
		},
		cleanup() {
			// The netns dir is a shared bind mount onto itself (as iproute2 makes /run/netns).
			for (const m of mountsUnder(dir).reverse()) {
				try {
					umount2(m, MNT_DETACH);
				} catch {}
			}
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

/**
 * Empties a netns dir a test made with src/netns: removes every namespace file in it (stale ones
 * too), then the dir's bind mount onto itself (as iproute2 makes /run/netns).
 */
export function wipeNetnsDir(dir: string): void {
	for (const e of NS.listNetns(dir)) NS.removeNetns(e.path, { stale: true });
	while (mountsUnder(dir).length) umount2(dir, MNT_DETACH);
}

/** The environment of a root ctrnet whose state (and netns dir) is under `dir`. */
export function rootStateEnv(dir: string): Record<string, string> {
	return {
		HOME: "/root",
		CTRNET_ROOT: `${dir}/state`,
		CTRNET_RUN_ROOT: `${dir}/run`,
		CTRNET_NETNS_DIR: `${dir}/netns`,
	};
}
