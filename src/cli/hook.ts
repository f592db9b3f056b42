// `ctrnet hook createRuntime|prestart|poststop|auto` (run by an OCI runtime, state on stdin),
// `ctrnet hook config` (a hooks.d file for podman / CRI-O) and `ctrnet hook inject BUNDLE` (for
// plain runc). DESIGN 7; the choices (stage detection, the hook's environment) are explained in
// src/hook/hooks-d.ts and src/hook/env.ts.
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { RawSetupSchema } from "../container/request";
import { UsageError } from "../errors";
import type { Stage } from "../hook/stage";
import { writeOut } from "../io";
import { log } from "../log";
import { command } from "./command";
import { getConfig, globalFlags } from "./context";
import { NETWORK_FLAGS, networkFlags } from "./flags";
import { printJson } from "./output";
import { runtime } from "./runtime";

/** Prefixes the message so that it reads clearly inside the runtime's own error line. */
function inContext(err: unknown, prefix: string): unknown {
	if (err instanceof Error) err.message = `${prefix}: ${err.message}`;
	return err;
}

async function runStage(requested: Stage | "auto"): Promise<void> {
	let where = `ctrnet hook ${requested}`;
	try {
		const { parseOciState } = await import("../hook/state");
		const { stageFromStatus } = await import("../hook/stage");
		const state = parseOciState(await Bun.stdin.text());
		const stage = requested === "auto" ? stageFromStatus(state.status) : requested;
		where = `ctrnet hook ${stage} (container ${state.id})`;
		const { hookSetup, hookTeardown } = await import("../hook/lifecycle");
		const rt = await runtime();
		if (stage === "poststop") {
			log.info(await hookTeardown(rt, state));
			return;
		}
		const c = await hookSetup(rt, state);
		log.info(c ? `container ${c.id} set up in ${c.netns?.path}` : "network host: nothing to do");
	} catch (e) {
		throw inContext(e, where);
	}
}

const stageCommand = (stage: Stage | "auto", description: string) =>
	command({ meta: { name: stage, description }, run: () => runStage(stage) });

/** The hook's binary: absolute (a runtime resolves no PATH), this one by default. */
function binPath(path: string | undefined): string {
	// Run from source (`bun src/main.ts`), execPath is bun itself, which is no hook. A compiled
	// ctrnet's entry lives in bun's embedded file system.
	if (path === undefined && !Bun.main.startsWith("/$bunfs/"))
		throw new UsageError("ctrnet runs from source under bun: pass --path to a built ctrnet");
	const p = path ?? process.execPath;
	if (!isAbsolute(p)) throw new UsageError(`--path ${JSON.stringify(p)} must be an absolute path`);
	if (!existsSync(p)) log.warn(`${p} does not exist (yet)`);
	return p;
}

function timeoutOf(value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	if (!/^[1-9]\d{0,5}$/.test(value))
		throw new UsageError(`invalid --timeout ${JSON.stringify(value)}: seconds, > 0`);
	return Number(value);
}

/** The hook entry's env: PATH, the global options this call was given, --env extras. */
async function envOf(extra: string[]): Promise<string[]> {
	await getConfig(); // validates the global options before they are written anywhere
	const { hookEnv } = await import("../hook/env");
	return hookEnv(globalFlags(), process.env, extra);
}

const common = {
	path: { type: "string", description: "the ctrnet binary the hook runs (default: this one)" },
	env: {
		type: "string",
		repeat: true,
		description: "NAME=VALUE for the hook's environment (repeatable)",
	},
	timeout: { type: "string", description: "seconds before the runtime kills the hook" },
} as const;

const config = command({
	meta: { name: "config", description: "Print a hooks.d 1.0.0 JSON for podman / CRI-O" },
	args: {
		stages: {
			type: "string",
			description:
				"createRuntime|prestart|poststop, comma-separated (default createRuntime,poststop)",
		},
		...common,
	},
	async run({ args }) {
		const { hooksDConfig, parseStages } = await import("../hook/hooks-d");
		const stages = parseStages(args.stages);
		printJson(
			hooksDConfig(binPath(args.path), stages, await envOf(args.env), timeoutOf(args.timeout)),
		);
	},
});

const inject = command({
	meta: {
		name: "inject",
		description:
			"Add ctrnet's createRuntime + poststop hooks (and annotations) to BUNDLE/config.json",
	},
	args: {
		bundle: { type: "positional", description: "OCI bundle directory", required: true },
		...common,
		...NETWORK_FLAGS,
	},
	async run({ args }) {
		const cfg = await getConfig();
		const { parseSetup } = await import("../container/request");
		const { annotationsFromRaw } = await import("../hook/annotations");
		const { hookEntry } = await import("../hook/hooks-d");
		const { injectBundle } = await import("../hook/inject");
		const raw = RawSetupSchema.parse({ id: "inject", ...networkFlags(args) });
		// The same checks the hook will make, now, rather than at the container's start.
		parseSetup(raw, cfg.defaultNetwork, cfg.rootless, cfg.rootlessNetwork);
		const path = binPath(args.path);
		const env = await envOf(args.env);
		const timeout = timeoutOf(args.timeout);
		const file = injectBundle(
			resolve(args.bundle),
			{
				createRuntime: hookEntry(path, "createRuntime", env, timeout),
				poststop: hookEntry(path, "poststop", env, timeout),
			},
			annotationsFromRaw(raw),
		);
		writeOut(`${file}\n`);
	},
});

export default command({
	meta: { name: "hook", description: "OCI runtime hook: set up / tear down from the OCI state" },
	subCommands: {
		createRuntime: stageCommand("createRuntime", "Set the container up (OCI state on stdin)"),
		prestart: stageCommand("prestart", "Same as createRuntime, for the deprecated stage"),
		poststop: stageCommand("poststop", "Tear the container down (OCI state on stdin)"),
		auto: stageCommand("auto", "createRuntime or poststop, from the state's status (hooks.d)"),
		config,
		inject,
	},
});
