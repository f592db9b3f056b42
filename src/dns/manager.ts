// Container DNS through aardvark-dns, in netavark 1.4's layout so that podman's netavark and
// ctrnet can share one config directory (podman's network run dir, `--config`):
//   <config>/aardvark.lock           flock held while files change and aardvark starts
//   <config>/aardvark-dns/<network>  one file per network (config.ts)
//   <config>/aardvark-dns/aardvark.pid   written by aardvark itself
// Under the lock: the networks' files are rewritten, then aardvark is started (none running),
// told with SIGHUP (running), or stopped (no network left). flock dies with its holder, so a
// killed update never wedges the next one.
//
// aardvark reads EVERY file in its directory on each SIGHUP and exits on the first one it cannot
// read or parse — one that vanished between its readdir and its read included. So no temp file
// is ever made there: a file is written beside the directory and renamed into it.
//
// Namespaces: aardvark binds the gateways in the network namespace it was started in, which is
// the one the calling thread is in when the spawn happens; `around` can put it elsewhere (e.g.
// `(spawn) => inNetns(path, spawn)`). Nothing else here depends on a namespace.
import { mkdirSync, readdirSync } from "node:fs";
import { ERRNO, SysError } from "../../ffi/errno";
import { geteuid, renameat, unlinkat } from "../../ffi/libc";
import { UsageError } from "../errors";
import { readAt, withDir, writeAtomicAt } from "../files/atomic";
import { ensureOwnedDir } from "../files/dirs";
import { withFileLock } from "../files/lock";
import {
	AARDVARK_DIR,
	AARDVARK_PID_FILE,
	findAardvarkBinary,
	reloadAardvark,
	removeStalePidFile,
	runningAardvark,
	startAardvark,
	stopAardvark,
	systemdScopeAvailable,
} from "../helpers/aardvark";
import { randomHex } from "../random";
import {
	checkNetworkFileName,
	type DnsChange,
	type DnsChangeInput,
	nextNetworkConfig,
	parseDnsChanges,
} from "./change";
import { formatNetworkConfig, type NetworkConfig, parseNetworkConfig } from "./config";
import { dnsPortFromEnv } from "./port";

export { AARDVARK_DIR };
export const AARDVARK_LOCK = "aardvark.lock";

export interface DnsOptions {
	/** aardvark-dns to run; default findAardvarkBinary() (CTRNET_AARDVARK_BINARY, Debian's, PATH). */
	binary?: string;
	/** Port aardvark listens on; default NETAVARK_DNS_PORT of `env`, else 53. */
	port?: number;
	/** Environment for the port and for aardvark (netavark passes its own, RUST_LOG included). */
	env?: Record<string, string | undefined>;
	/** Runs the spawn of aardvark (see the header); default: in the calling thread's netns. */
	around?: <T>(spawn: () => T) => T;
	/** podman's --rootless: a systemd scope, when used, is the user's. */
	rootless?: boolean;
	/** Start aardvark in a systemd scope; default as netavark (systemd booted, systemd-run found). */
	systemdScope?: boolean;
	/** Longest wait for the lock, and for aardvark to start. */
	timeoutMs?: number;
	/**
	 * The config directory was handed over by its owner (podman's --config for netavark): made
	 * if missing, not checked for ownership. Inside a rootless user namespace the host's /run and
	 * /tmp belong to an unmapped uid, which the check would refuse.
	 */
	trustConfigDir?: boolean;
}

export type AardvarkAction = "started" | "reloaded" | "stopped" | "unchanged" | "none";

export interface DnsOutcome {
	/** What was done to aardvark: "none" when no network has DNS entries and none ran. */
	aardvark: AardvarkAction;
	/** The aardvark serving the directory afterwards, if any. */
	pid: number | null;
	/** The networks that have a file now. */
	networks: string[];
}

function readNetwork(configFd: number, name: string): NetworkConfig | null {
	const path = `${AARDVARK_DIR}/${name}`;
	try {
		return parseNetworkConfig(readAt(configFd, path).text, `aardvark-dns config ${name}`);
	} catch (e) {
		if (e instanceof SysError && e.errno === ERRNO.ENOENT) return null;
		throw e;
	}
}

/** Replaces the network's file in one rename from the config dir (never a temp file in aardvark's). */
function writeNetwork(configFd: number, name: string, text: string): void {
	const staging = `.ctrnet-aardvark-${randomHex(6)}`;
	// Runtime state (podman's run dir; the containers it names die with a reboot): no fsync.
	writeAtomicAt(configFd, staging, text, { mode: 0o600, durable: false });
	try {
		renameat(configFd, staging, `${AARDVARK_DIR}/${name}`);
	} catch (e) {
		unlinkat(configFd, staging);
		throw e;
	}
}

function removeNetwork(configFd: number, name: string): void {
	unlinkat(configFd, `${AARDVARK_DIR}/${name}`);
}

/** Network files in aardvark's directory: every file but its pid file, as aardvark reads them. */
function networkFiles(dir: string): string[] {
	return readdirSync(dir)
		.filter((n) => n !== AARDVARK_PID_FILE)
		.sort();
}

function byNetwork(changes: readonly DnsChange[]): Map<string, DnsChange[]> {
	const out = new Map<string, DnsChange[]>();
	for (const c of changes) {
		const name = checkNetworkFileName(c.network.name, [AARDVARK_PID_FILE]);
		out.set(name, [...(out.get(name) ?? []), c]);
	}
	return out;
}

/**
 * Adds or removes containers in the DNS of their networks and brings aardvark in line: started
 * when a network has entries and none runs (also after a crash), SIGHUP when one runs and a file
 * changed, stopped (and its pid file removed) when the last entry of the last network went.
 * Safe to run from many processes at once. Changes are checked before anything is touched.
 */
export async function updateDns(
	configDir: string,
	changes: DnsChangeInput | DnsChangeInput[],
	opts: DnsOptions = {},
): Promise<DnsOutcome> {
	const env = opts.env ?? process.env;
	const groups = byNetwork(parseDnsChanges(changes));
	const timeoutMs = opts.timeoutMs ?? 30_000;
	const port = opts.port ?? dnsPortFromEnv(env);
	if (!Number.isInteger(port) || port < 1 || port > 65535)
		throw new UsageError(`invalid DNS port ${port}`);
	const dir = `${configDir}/${AARDVARK_DIR}`;
	if (opts.trustConfigDir) {
		mkdirSync(dir, { recursive: true, mode: 0o700 });
	} else {
		const euid = geteuid();
		ensureOwnedDir(configDir, 0o700, euid);
		ensureOwnedDir(dir, 0o700, euid);
	}

	return withFileLock(
		`${configDir}/${AARDVARK_LOCK}`,
		"exclusive",
		async () => {
			// Read before the files change: aardvark exits by itself when a SIGHUP (a concurrent
			// update's, still being handled) finds its directory empty, so once this update has
			// removed the last network file the aardvark it stops may already be gone.
			const running = runningAardvark(dir);
			let changed = false;
			withDir(configDir, (configFd) => {
				for (const [name, list] of groups) {
					const current = readNetwork(configFd, name);
					const next = nextNetworkConfig(current, list);
					const before = current ? formatNetworkConfig(current) : null;
					const after = next ? formatNetworkConfig(next) : null;
					if (before === after) continue;
					if (after === null) removeNetwork(configFd, name);
					else writeNetwork(configFd, name, after);
					changed = true;
				}
			});
			const networks = networkFiles(dir);
			if (networks.length === 0) {
				if (running) {
					await stopAardvark(running, dir);
					return { aardvark: "stopped", pid: null, networks };
				}
				removeStalePidFile(dir);
				return { aardvark: "none", pid: null, networks };
			}
			if (running && (!changed || (await reloadAardvark(running, timeoutMs)))) {
				return { aardvark: changed ? "reloaded" : "unchanged", pid: running.pid, networks };
			}
			const binary = opts.binary ?? findAardvarkBinary(undefined, env);
			if (!binary) throw new UsageError("aardvark-dns not found: container DNS needs it");
			const started = await startAardvark({
				binary,
				dir,
				port,
				systemdScope: opts.systemdScope ?? systemdScopeAvailable(env),
				rootless: opts.rootless ?? false,
				around: opts.around,
				env: opts.env,
				timeoutMs,
			});
			return { aardvark: "started", pid: started.pid, networks };
		},
		timeoutMs,
	);
}
