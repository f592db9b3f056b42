// `ctrnet hook inject BUNDLE`: puts ctrnet's createRuntime and poststop hooks (and, when asked,
// io.ctrnet.* annotations) into a bundle's config.json, for plain runc users. Idempotent: an entry
// that already runs `… hook <stage>` (or `hook auto`) is replaced in place; other hooks are kept in
// their order, ctrnet's setup goes first (later hooks may want the network) and its teardown last.
// The file is rewritten losslessly (json.ts) and atomically (a temp file renamed over it), without
// following any symlink the bundle's owner may have planted (files/atomic.ts).
import * as z from "zod/mini";
import { UsageError } from "../errors";
import { readAt, withDir, writeAtomicAt } from "../files/atomic";
import { decode } from "../json";
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

/** Parses config.json's text (lossless); the document as written, checked against the schema. */
function parseOciConfig(text: string, file: string): OciConfig {
	let json: unknown;
	try {
		json = parseLossless(text);
	} catch {
		throw new UsageError(`${file} is not JSON`);
	}
	decode(OciConfigSchema, json, `invalid ${file}`);
	// The document as read, not zod's copy: its key order and raw big integers stay as they were.
	return json as OciConfig;
}

/**
 * Rewrites BUNDLE/config.json. The bundle may belong to another user while ctrnet runs as root,
 * so nothing is resolved twice: the bundle dir is opened once (a final symlink refused), the file
 * is read through that fd without following a symlink, and the new text goes to a fresh temp file
 * (O_EXCL|O_NOFOLLOW) renamed over it in the same dir — keeping its mode and owner. A symlink
 * planted at any name ctrnet uses makes it fail; it is never followed.
 */
export function injectBundle(
	bundle: string,
	entries: { createRuntime: HookEntry; poststop: HookEntry },
	annotations: Record<string, string>,
): string {
	const dir = bundle.replace(/\/+$/, "") || "/";
	const file = `${dir}/config.json`;
	withDir(dir, (dirFd) => {
		const current = readAt(dirFd, "config.json", file);
		const config = injectHooks(parseOciConfig(current.text, file), entries, annotations);
		writeAtomicAt(dirFd, "config.json", stringifyDocument(config), {
			mode: current.mode,
			owner: { uid: current.uid, gid: current.gid },
		});
	});
	return file;
}
