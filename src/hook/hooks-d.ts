// Hook entries (runtime-spec `hooks`) and the hooks.d 1.0.0 file of oci-hooks(5) that podman and
// CRI-O read. A hooks.d file has one command for all its stages, and the runtime does not tell
// the command which stage it runs for: with one stage the stage is in the args
// (`ctrnet hook createRuntime`); with several the command is `ctrnet hook auto`, which takes the
// stage from the state's `status` (creating = setup, stopped = teardown). nerdctl instead writes
// the stage into the args of two separate entries, which is what `hook inject` does.
import * as z from "zod/mini";
import { UsageError } from "../errors";
import { ANNOTATIONS } from "./annotations";
import { STAGES, type Stage } from "./stage";

export const HookEntrySchema = z.looseObject({
	path: z.string(),
	args: z.optional(z.array(z.string())),
	env: z.optional(z.array(z.string())),
	timeout: z.optional(z.int().check(z.positive())),
});
export type HookEntry = z.infer<typeof HookEntrySchema>;

export function hookEntry(
	path: string,
	stage: Stage | "auto",
	env: string[],
	timeout?: number,
): HookEntry {
	return {
		path,
		args: [path, "hook", stage],
		env,
		...(timeout === undefined ? {} : { timeout }),
	};
}

/** Parses `--stages createRuntime,poststop` (default those two). */
export function parseStages(value: string | undefined): Stage[] {
	const names = (value ?? "createRuntime,poststop")
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean);
	if (names.length === 0) throw new UsageError("--stages needs at least one stage");
	const out: Stage[] = [];
	for (const n of names) {
		if (!(STAGES as readonly string[]).includes(n))
			throw new UsageError(`invalid stage ${JSON.stringify(n)} (expected ${STAGES.join(", ")})`);
		if (!out.includes(n as Stage)) out.push(n as Stage);
	}
	if (out.includes("createRuntime") && out.includes("prestart"))
		throw new UsageError("--stages: createRuntime and prestart both set up; pick one");
	return out;
}

export function hooksDConfig(
	path: string,
	stages: Stage[],
	env: string[],
	timeout?: number,
): Record<string, unknown> {
	const stage = stages.length === 1 ? (stages[0] as Stage) : "auto";
	return {
		version: "1.0.0",
		hook: hookEntry(path, stage, env, timeout),
		when: { annotations: { [`^${ANNOTATIONS.network.replaceAll(".", "\\.")}$`]: ".*" } },
		stages,
	};
}
