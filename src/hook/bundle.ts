// What the hook needs from a bundle's config.json: only where the container's network namespace
// is. runc has created it by createRuntime; a `linux.namespaces` network entry with a `path` means
// the container joins an existing one (ctrnet configures it there and never deletes it), and no
// network entry at all means the container shares the runtime's (the host's) namespace.
import { readFileSync } from "node:fs";
import * as z from "zod/mini";
import { UsageError } from "../errors";
import { decode, parseJson } from "../json";

const NamespaceSchema = z.object({ type: z.string(), path: z.optional(z.string()) });

export const BundleNetSchema = z.object({
	linux: z.optional(z.object({ namespaces: z.optional(z.array(NamespaceSchema)) })),
});
export type BundleNet = z.infer<typeof BundleNetSchema>;

export type BundleNetns = { kind: "own" } | { kind: "path"; path: string } | { kind: "host" };

/** Pure: the namespace decision for a parsed config.json. */
export function bundleNetns(config: BundleNet): BundleNetns {
	const entry = config.linux?.namespaces?.find((n) => n.type === "network");
	if (!entry) return { kind: "host" };
	if (entry.path) return { kind: "path", path: entry.path };
	return { kind: "own" };
}

export function readBundleNetns(bundle: string): BundleNetns {
	const file = `${bundle}/config.json`;
	let text: string;
	try {
		text = readFileSync(file, "utf8");
	} catch (e) {
		// No config.json to read: rely on /proc/PID/ns/net (the host check still applies).
		if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "own" };
		throw e;
	}
	const json = parseJson(text);
	if (json === undefined) throw new UsageError(`${file} is not JSON`);
	return bundleNetns(decode(BundleNetSchema, json, `invalid ${file}`));
}
