// aardvark-dns 1.4 for one config directory: found by the pid file it writes there, started the
// way netavark 1.4 starts it, told of changes with SIGHUP, stopped by identity.
//
// aardvark daemonizes itself: `aardvark-dns --config DIR -p PORT run` forks, the child calls
// setsid, points fds 0-2 at /dev/null, writes DIR/aardvark.pid and only then tells the parent,
// which exits 0. So unlike spawn.ts's helpers (ready on fd 4) the parent's exit is the ready
// signal, and the daemon keeps none of our pipes: reading the parent's stdout/stderr cannot
// hang. Two aardvark 1.4 traps shape the rest:
// - the child reports ready BEFORE it installs its SIGHUP handler, and SIGHUP's default action
//   kills it: a change signalled in that window would stop DNS for every network (seen here
//   about once in 50 tries). Nothing is signalled until /proc/PID/status shows SIGHUP caught.
// - if its parent hangs (the child died before reporting ready, e.g. an unwritable pid file),
//   it hangs for good: the start has a deadline.
import { readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { kill, SIGHUP, SIGKILL } from "../../ffi/libc";
import { identify, isAlive, type ProcessIdentity } from "../process/identity";
import { HelperError } from "./spawn";
import { stopProcess } from "./stop";

/** aardvark's directory inside a netavark config directory (`<config>/aardvark-dns`). */
export const AARDVARK_DIR = "aardvark-dns";

/** The file aardvark writes its pid to, in its config directory (and skips when parsing). */
export const AARDVARK_PID_FILE = "aardvark.pid";

/** Debian's path (netavark's own default is /usr/libexec/podman/aardvark-dns). */
export const DEFAULT_AARDVARK_BINARY = "/usr/lib/podman/aardvark-dns";

function exists(path: string): boolean {
	try {
		return statSync(path).isFile();
	} catch {
		return false;
	}
}

/**
 * The aardvark-dns to run: `explicit` (--aardvark-binary, even ""), else CTRNET_AARDVARK_BINARY,
 * else Debian's path, else PATH; undefined when that file does not exist (netavark then runs
 * without DNS).
 */
export function findAardvarkBinary(
	explicit?: string,
	env: Record<string, string | undefined> = process.env,
): string | undefined {
	if (explicit !== undefined) return exists(explicit) ? explicit : undefined;
	const chosen = env.CTRNET_AARDVARK_BINARY;
	if (chosen) return exists(chosen) ? chosen : undefined;
	if (exists(DEFAULT_AARDVARK_BINARY)) return DEFAULT_AARDVARK_BINARY;
	return Bun.which("aardvark-dns", { PATH: env.PATH ?? "/usr/bin:/bin" }) ?? undefined;
}

/** netavark's rule for running aardvark in its own systemd scope: sd_booted and systemd-run. */
export function systemdScopeAvailable(env: Record<string, string | undefined> = process.env) {
	let booted = false;
	try {
		booted = statSync("/run/systemd/system").isDirectory();
	} catch {}
	return booted && Bun.which("systemd-run", { PATH: env.PATH ?? "/usr/bin:/bin" }) !== null;
}

export interface AardvarkCommand {
	binary: string;
	/** aardvark's config directory (`<netavark config>/aardvark-dns`). */
	dir: string;
	port: number;
	/**
	 * Run it in a transient systemd scope (netavark does when systemd is booted), so that it
	 * outlives the unit or session that started the first container.
	 */
	systemdScope: boolean;
	rootless: boolean;
}

/** netavark 1.4's argv for aardvark-dns. Pure. */
export function aardvarkCommand(c: AardvarkCommand): string[] {
	const scope = c.systemdScope
		? ["systemd-run", "-q", "--scope", ...(c.rootless ? ["--user"] : [])]
		: [];
	return [...scope, c.binary, "--config", c.dir, "-p", String(c.port), "run"];
}

/** The value of aardvark's --config option in an argv, if it is an aardvark `run`. Pure. */
export function configArgOf(argv: readonly string[]): string | undefined {
	let config: string | undefined;
	let run = false;
	for (let i = 1; i < argv.length; i++) {
		const a = argv[i] as string;
		if (a === "--config" || a === "-c") config = argv[++i];
		else if (a.startsWith("--config=")) config = a.slice("--config=".length);
		else if (a === "-p" || a === "--port" || a === "-f" || a === "--filter-search-domain") i++;
		else if (a === "run") run = true;
	}
	return run ? config : undefined;
}

function sameDir(pid: number, configArg: string, dir: string): boolean {
	let path = configArg;
	try {
		if (!isAbsolute(path)) path = resolve(readlinkSync(`/proc/${pid}/cwd`), path);
		// Through /proc/PID/root, so a process in another mount namespace is judged by its view.
		const theirs = statSync(`/proc/${pid}/root${path}`);
		const ours = statSync(dir);
		return theirs.dev === ours.dev && theirs.ino === ours.ino;
	} catch {
		return resolve(path) === resolve(dir);
	}
}

/**
 * The aardvark-dns serving `dir`, from the pid file aardvark writes there, or undefined. A pid
 * counts only while its process is alive (a zombie is gone) and runs aardvark with --config of
 * this very directory: a stale pid file whose pid was recycled is never taken for aardvark.
 */
export function runningAardvark(dir: string): ProcessIdentity | undefined {
	let text: string;
	try {
		text = readFileSync(`${dir}/${AARDVARK_PID_FILE}`, "utf8").trim();
	} catch {
		return undefined;
	}
	if (!/^\d+$/.test(text)) return undefined;
	const pid = Number(text);
	const who = identify(pid);
	if (!who) return undefined;
	let argv: string[];
	try {
		argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
	} catch {
		return undefined;
	}
	const config = configArgOf(argv);
	if (config === undefined || !sameDir(pid, config, dir)) return undefined;
	// The start time read before the checks is the identity every later signal is checked against.
	return isAlive(who) ? who : undefined;
}

/** True when the process catches SIGHUP (aardvark's handler is in), undefined when it is gone. */
export function catchesSighup(pid: number): boolean | undefined {
	let status: string;
	try {
		status = readFileSync(`/proc/${pid}/status`, "utf8");
	} catch {
		return undefined;
	}
	if (/^State:\s+[ZX]/m.test(status)) return undefined;
	const hex = status.match(/^SigCgt:\s*([0-9a-fA-F]+)$/m)?.[1];
	if (hex === undefined) return undefined;
	return (BigInt(`0x${hex}`) & (1n << BigInt(SIGHUP - 1))) !== 0n;
}

async function untilSighupCaught(p: ProcessIdentity, deadline: number): Promise<boolean> {
	for (;;) {
		const caught = isAlive(p) ? catchesSighup(p.pid) : undefined;
		if (caught !== false) return caught === true;
		if (Date.now() > deadline) return false;
		await Bun.sleep(1);
	}
}

export interface AardvarkStart extends AardvarkCommand {
	/** Runs the spawn; lets a caller start aardvark in another network namespace (inNetns). */
	around?: <T>(spawn: () => T) => T;
	env?: Record<string, string | undefined>;
	/** Give up (and kill what was started) after this long. */
	timeoutMs: number;
}

/** Starts aardvark for `dir` and returns its daemon once it can take a SIGHUP. */
export async function startAardvark(s: AardvarkStart): Promise<ProcessIdentity> {
	const cmd = aardvarkCommand(s);
	const spawn = () =>
		Bun.spawn(cmd, {
			cwd: "/",
			env: s.env,
			detached: true,
			stdin: "ignore",
			stdout: "pipe",
			stderr: "pipe",
		});
	let proc: ReturnType<typeof spawn>;
	try {
		proc = s.around ? s.around(spawn) : spawn();
	} catch (e) {
		throw new HelperError(`aardvark-dns: ${e instanceof Error ? e.message : String(e)}`);
	}
	const deadline = Date.now() + s.timeoutMs;
	const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
	// A cleared timer, not Bun.sleep: a pending sleep would keep the caller's process alive.
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<null>((r) => {
		timer = setTimeout(() => r(null), s.timeoutMs);
	});
	const exited = await Promise.race([proc.exited, late]);
	clearTimeout(timer);
	if (exited === null) {
		kill(proc.pid, SIGKILL);
		await proc.exited;
		const daemon = runningAardvark(s.dir);
		if (daemon) await stopAardvark(daemon, s.dir);
		const [, err] = await output;
		throw new HelperError(
			`aardvark-dns did not start within ${s.timeoutMs} ms: ${JSON.stringify(err.trim())}`,
		);
	}
	const [out, err] = await output;
	// aardvark prints its own errors on stdout; stderr holds log lines (syslog fallback).
	const said = [out.trim(), err.trim()].filter(Boolean).join("; ");
	if (exited !== 0) throw new HelperError(`aardvark-dns failed (exit ${exited}): ${said}`);
	const daemon = runningAardvark(s.dir);
	if (!daemon || !(await untilSighupCaught(daemon, deadline))) {
		if (daemon) await stopAardvark(daemon, s.dir);
		throw new HelperError(`aardvark-dns exited right after starting: ${said}`);
	}
	return daemon;
}

/**
 * Tells a running aardvark to read its directory again. False when it is no longer running
 * (the caller starts a new one).
 */
export async function reloadAardvark(p: ProcessIdentity, timeoutMs: number): Promise<boolean> {
	if (!(await untilSighupCaught(p, Date.now() + timeoutMs))) {
		if (!isAlive(p)) return false;
		throw new HelperError(`aardvark-dns (pid ${p.pid}) does not handle SIGHUP yet`);
	}
	return kill(p.pid, SIGHUP);
}

/** Stops aardvark (SIGTERM, then SIGKILL) and removes its pid file if it still names it. */
export async function stopAardvark(p: ProcessIdentity, dir: string): Promise<void> {
	await stopProcess(p);
	const pidFile = `${dir}/${AARDVARK_PID_FILE}`;
	try {
		if (readFileSync(pidFile, "utf8").trim() === String(p.pid)) rmSync(pidFile, { force: true });
	} catch {
		// already gone
	}
}

/** Removes a pid file whose aardvark is gone (killed, crashed); aardvark would overwrite it. */
export function removeStalePidFile(dir: string): void {
	if (!runningAardvark(dir)) rmSync(`${dir}/${AARDVARK_PID_FILE}`, { force: true });
}
