// `ctrnet hook inject BUNDLE`: puts ctrnet's createRuntime and poststop hooks (and, when asked,
// io.ctrnet.* annotations) into a bundle's config.json, for plain runc users. Idempotent: an entry
// that already runs `… hook <stage>` (or `hook auto`) is replaced in place; other hooks are kept in
// their order, ctrnet's setup goes first (later hooks may want the network) and its teardown last.
// The file is rewritten losslessly (json.ts) and atomically (a temp file renamed over it).
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import * as z from "zod/mini";
import { UsageError } from "../errors";
import { type HookEntry, HookEntrySchema } from "./hooks-d";
import { parseLossless, stringifyDocument } from "./json";

const HookListSchema = z.optional(z.array(HookEntrySchema));

export const OciConfigSchema = z.looseObject({
	hooks: z.optional(
		z.looseObject({
			prestart: HookListSchema,
			createRuntime: HookListSchema,
			createContainer: HookListSchema,
			startContainer: HookListSchema,
			poststart: HookListSchema,
			poststop: HookListSchema,
		}),
	),
	annotations: z.optional(z.record(z.string(), z.string())),
});
export type OciConfig = z.infer<typeof OciConfigSchema>;

/** An entry that runs ctrnet for `stage`: `<any path> hook <stage|auto>`. */
export function isCtrnetEntry(e: HookEntry, stage: string): boolean {
	return e.args?.[1] === "hook" && (e.args[2] === stage || e.args[2] === "auto");
}

function place(list: HookEntry[], entry: HookEntry, stage: string, first: boolean): HookEntry[] {
	const at = list.findIndex((e) => isCtrnetEntry(e, stage));
	if (at < 0) return first ? [entry, ...list] : [...list, entry];
	return list.flatMap((e, i) => (i === at ? [entry] : isCtrnetEntry(e, stage) ? [] : [e]));
}

/** Pure: the config with ctrnet's hooks and the given annotations. */
export function injectHooks(
	config: OciConfig,
	entries: { createRuntime: HookEntry; poststop: HookEntry },
	annotations: Record<string, string>,
): OciConfig {
	const hooks = config.hooks ?? {};
	const out: OciConfig = {
		...config,
		hooks: {
			...hooks,
			createRuntime: place(hooks.createRuntime ?? [], entries.createRuntime, "createRuntime", true),
			poststop: place(hooks.poststop ?? [], entries.poststop, "poststop", false),
		},
	};
	if (Object.keys(annotations).length > 0)
		out.annotations = { ...config.annotations, ...annotations };
	return out;
}

export function readOciConfig(file: string): OciConfig {
	let text: string;
	try {
		text = readFileSync(file, "utf8");
	} catch (e) {
		throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
	}
	let json: unknown;
	try {
		json = parseLossless(text);
	} catch {
		throw new UsageError(`${file} is not JSON`);
	}
	const r = OciConfigSchema.safeParse(json);
	if (!r.success) {
		const issue = r.error.issues[0];
		throw new UsageError(`invalid ${file}: ${issue?.path.join(".")}: ${issue?.message}`);
	}
	// The document as read, not zod's copy: its key order and raw big integers stay as they were.
	return json as OciConfig;
}

/** Replaces `file` in one rename, keeping its mode. */
export function writeAtomically(file: string, text: string): void {
	const mode = statSync(file).mode & 0o7777;
	const tmp = `${file}.ctrnet-${process.pid}.tmp`;
	try {
		writeFileSync(tmp, text, { mode });
		renameSync(tmp, file);
	} catch (e) {
		try {
			unlinkSync(tmp);
		} catch {}
		throw e;
	}
}

export function injectBundle(
	bundle: string,
	entries: { createRuntime: HookEntry; poststop: HookEntry },
	annotations: Record<string, string>,
): string {
	const file = `${bundle.replace(/\/+$/, "")}/config.json`;
	const config = injectHooks(readOciConfig(file), entries, annotations);
	writeAtomically(file, stringifyDocument(config));
	return file;
}
