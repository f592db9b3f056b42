// Running one plugin process: Bun.spawn with an argv array (never a shell), the config on stdin,
// the result or the CNI error read from stdout, a timeout that kills the plugin's whole process
// group. Every plugin process ctrnet starts (ADD/DEL/CHECK/…, and VERSION for `info`) starts here.
import { CtrnetError } from "../errors";
import { writeErr } from "../io";
import type { CniCommand } from "./invocation";
import { PluginErrorSchema } from "./schema";

/** A plugin failed: its own `{code, msg, details}` when it gave one, with its name and verb. */
export class PluginError extends CtrnetError {
	override name = "PluginError";
	constructor(
		readonly plugin: string,
		readonly command: CniCommand,
		readonly network: string,
		readonly code: number,
		readonly msg: string,
		readonly details?: string,
	) {
		super(
			`network ${JSON.stringify(network)}: plugin ${plugin} failed (${command.toLowerCase()}): ${msg}${
				details ? ` (${details})` : ""
			}`,
		);
	}
}

export interface PluginRun {
	plugin: string;
	command: CniCommand;
	network: string;
	/** Wall time of the plugin process, spawn to exit. */
	ms: number;
	/** When it was spawned, in ms since ctrnet started (performance.now()). */
	startedAt: number;
}

export interface ExecOptions {
	timeoutMs: number;
	/** A command the plugin runs under (nsenter into a rootless netns); none by default. */
	wrap?: readonly string[];
	/** Called after every plugin process ends, with its wall time (for CTRNET_TRACE_PLUGINS). */
	onRun?: (run: PluginRun) => void;
}

/** One plugin run: what it printed and how it ended. */
export interface PluginProcess {
	stdout: string;
	stderr: string;
	code: number;
	timedOut: boolean;
	/** Wall time, spawn to exit. */
	ms: number;
	startedAt: number;
}

/**
 * Spawns `path` with `env`, the JSON of `stdin` on its stdin, and collects what it printed. Its
 * own process group (detached), so a timeout kills whatever the plugin started too: a child left
 * holding stdout would otherwise keep us waiting for EOF. Throws only when it cannot be started.
 */
export async function runPluginProcess(
	path: string,
	env: Record<string, string>,
	stdin: unknown,
	timeoutMs: number,
	wrap: readonly string[] = [],
): Promise<PluginProcess> {
	const startedAt = performance.now();
	const proc = Bun.spawn([...wrap, path], {
		env,
		stdin: new TextEncoder().encode(JSON.stringify(stdin)),
		stdout: "pipe",
		stderr: "pipe",
		detached: true,
	});
	let timedOut = false;
	const pid = proc.pid;
	const timer = setTimeout(() => {
		timedOut = true;
		try {
			process.kill(-pid, "SIGKILL");
		} catch {
			// already gone
		}
	}, timeoutMs);
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]).finally(() => clearTimeout(timer));
	return { stdout, stderr, code, timedOut, ms: performance.now() - startedAt, startedAt };
}

/**
 * Runs `path` with `env` and `stdin`, returns its stdout on exit 0, throws PluginError otherwise.
 * Like libcni, a plugin's stderr is passed on when it succeeds and folded into the error when it
 * fails without a JSON error on stdout.
 */
export async function execPlugin(
	path: string,
	command: CniCommand,
	network: string,
	stdin: unknown,
	env: Record<string, string>,
	opts: ExecOptions,
): Promise<string> {
	const plugin = path.slice(path.lastIndexOf("/") + 1);
	let run: PluginProcess;
	try {
		run = await runPluginProcess(path, env, stdin, opts.timeoutMs, opts.wrap);
	} catch (e) {
		throw new PluginError(
			plugin,
			command,
			network,
			999,
			`cannot run ${path}: ${(e as Error).message}`,
		);
	}
	opts.onRun?.({ plugin, command, network, ms: run.ms, startedAt: run.startedAt });
	if (run.timedOut) {
		throw new PluginError(plugin, command, network, 999, `timed out after ${opts.timeoutMs} ms`);
	}
	if (run.code === 0) {
		if (run.stderr) writeErr(run.stderr.endsWith("\n") ? run.stderr : `${run.stderr}\n`);
		return run.stdout;
	}
	throw pluginFailure(plugin, command, network, run.code, run.stdout, run.stderr);
}

/** libcni's RawExec.pluginErr: the JSON error on stdout, else stderr, else the exit status. */
export function pluginFailure(
	plugin: string,
	command: CniCommand,
	network: string,
	exitCode: number,
	stdout: string,
	stderr: string,
): PluginError {
	const err = (msg: string, code = 999, details?: string) =>
		new PluginError(plugin, command, network, code, msg, details);
	if (stdout.trim() === "") {
		return stderr.trim()
			? err(`${stderr.trim()} (exit status ${exitCode})`)
			: err(`failed with no error message (exit status ${exitCode})`);
	}
	let json: unknown;
	try {
		json = JSON.parse(stdout);
	} catch {
		return err(`failed, and its output is not a CNI error: ${JSON.stringify(stdout.trim())}`);
	}
	const parsed = PluginErrorSchema().safeParse(json);
	if (!parsed.success) {
		return err(`failed, and its output is not a CNI error: ${JSON.stringify(stdout.trim())}`);
	}
	return err(
		parsed.data.msg || `error code ${parsed.data.code}`,
		parsed.data.code,
		parsed.data.details,
	);
}
