// Starting slirp4netns for a container as podman v2 does (setupSlirp4netns): options validated
// first (nothing starts on a bad one), podman's argv, its own session, log file unlinked after
// opening, ready on fd 4; as real root with --enable-sandbox in a private mount namespace.
import { readdirSync, rmSync } from "node:fs";
import { geteuid } from "../../ffi/libc";
import { buildSlirpArgs, type SlirpTarget } from "../slirp/argv";
import type { SlirpFeature } from "../slirp/features";
import { inPrivateMountNs } from "../slirp/mountns";
import type { SlirpOptions } from "../slirp/options";
import { type StartedHelper, spawnHelper } from "./spawn";

export interface Slirp4netnsStart {
	/** slirp4netns' path (from detectSlirp). */
	binary: string;
	features: readonly SlirpFeature[];
	options: SlirpOptions;
	target: SlirpTarget;
	containerId: string;
	/** Holds the unlinked log and the API socket `<tmpDir>/<containerId>.net`. */
	tmpDir: string;
	/** Ports will be published; with port_handler=slirp4netns that needs the API socket. */
	hasPorts: boolean;
	/** Give up when slirp4netns is alive but not ready after this long (default 30 s). */
	timeoutMs?: number;
	/** Pass podman's `-e 3` and return the exit pipe's write end (see spawn.ts). */
	holdExit?: boolean;
}

export interface StartedSlirp extends StartedHelper {
	/** The API socket, when one was asked for. */
	apiSocket: string | null;
}

/** Host interface names, for outbound_addr / outbound_addr6 given as an interface. */
export function hostInterfaceNames(): string[] {
	try {
		return readdirSync("/sys/class/net");
	} catch {
		return [];
	}
}

export async function startSlirp4netns(s: Slirp4netnsStart): Promise<StartedSlirp> {
	const apiSocket =
		s.hasPorts && s.options.portHandler === "slirp4netns"
			? `${s.tmpDir}/${s.containerId}.net`
			: null;
	if (apiSocket) rmSync(apiSocket, { force: true }); // a stale one would make its bind fail
	const args = buildSlirpArgs({
		options: s.options,
		features: s.features,
		apiSocket: apiSocket ?? undefined,
		exitFd: s.holdExit ? 3 : undefined,
		readyFd: 4,
		target: s.target,
	});
	const sandboxAsRoot = geteuid() === 0 && args.includes("--enable-sandbox");
	const started = await spawnHelper({
		name: "slirp4netns",
		cmd: [s.binary, ...args],
		logPath: `${s.tmpDir}/slirp4netns-${s.containerId}.log`,
		holdExit: s.holdExit,
		timeoutMs: s.timeoutMs ?? 30_000,
		around: sandboxAsRoot ? inPrivateMountNs : undefined,
	});
	return { ...started, apiSocket };
}
