// Parsing one CNI config file into a network list. Pure: the bytes and the file name in, a list
// or an error naming the file and the field out. Loading a directory is load.ts.
import type { z } from "zod/mini";
import { firstIssue } from "../json";
import { CNI_NAME_PATTERN, ConfListSchema, SingleConfSchema } from "./schema";
import { compareVersions, isVersion, LATEST_VERSION, pickListVersion } from "./version";

/** A plugin's config object, as written (unknown keys kept: they belong to the plugin). */
export type PluginConf = z.infer<ReturnType<typeof ConfListSchema>>["plugins"][number];

export interface NetworkConfigList {
	name: string;
	/** The version the list runs at (see pickListVersion). */
	cniVersion: string;
	disableCheck: boolean;
	disableGC: boolean;
	plugins: PluginConf[];
	/** The config text, kept for the result cache so DEL works after the file changed. */
	bytes: string;
	/** The file it came from; absent for a list rebuilt from the cache. */
	file?: string;
}

export type ParseOutcome = { ok: true; list: NetworkConfigList } | { ok: false; error: string };

const base = (file: string) =>
	(file.split("/").pop() ?? file).replace(/\.(conflist|conf|json)$/, "");

/**
 * Parses a `.conflist` (a list) or a `.conf`/`.json` (one plugin, promoted to a one-plugin list as
 * libcni's ConfListFromConf does). A `.conf` that holds `plugins` and no `type` is read as a list.
 */
export function parseConfigFile(file: string, text: string): ParseOutcome {
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch (e) {
		return { ok: false, error: `invalid JSON: ${(e as Error).message}` };
	}
	const obj =
		typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as object) : undefined;
	const asList = file.endsWith(".conflist") || (obj && "plugins" in obj && !("type" in obj));
	if (asList) return fromList(file, text, raw);

	const single = SingleConfSchema().safeParse(raw);
	if (!single.success) {
		const hint = obj && !("type" in obj) ? " (perhaps this is a .conflist?)" : "";
		return { ok: false, error: `${firstIssue(single.error)}${hint}` };
	}
	const promoted = {
		name: single.data.name ?? base(file),
		cniVersion: single.data.cniVersion ?? "",
		plugins: [raw],
	};
	return fromList(file, JSON.stringify(promoted), promoted);
}

function fromList(file: string, text: string, raw: unknown): ParseOutcome {
	const parsed = ConfListSchema().safeParse(raw);
	if (!parsed.success) return { ok: false, error: firstIssue(parsed.error) };
	const l = parsed.data;
	const name = l.name || base(file);
	if (!CNI_NAME_PATTERN.test(name)) {
		return { ok: false, error: `name: invalid network name ${JSON.stringify(name)}` };
	}
	if (l.cniVersion && !isVersion(l.cniVersion)) {
		return { ok: false, error: `cniVersion: invalid version ${JSON.stringify(l.cniVersion)}` };
	}
	const cniVersion = pickListVersion(l.cniVersion, l.cniVersions);
	if (compareVersions(cniVersion, LATEST_VERSION) > 0) {
		return { ok: false, error: `cniVersion: ${cniVersion} is newer than ${LATEST_VERSION}` };
	}
	return {
		ok: true,
		list: {
			name,
			cniVersion,
			disableCheck: l.disableCheck ?? false,
			disableGC: l.disableGC ?? false,
			plugins: l.plugins,
			bytes: text,
			file,
		},
	};
}

/** A list from the bytes stored in a cache entry (the file may be long gone). */
export function parseCachedConfig(text: string, networkName: string): ParseOutcome {
	const out = parseConfigFile(`${networkName}.conflist`, text);
	if (out.ok) out.list.file = undefined;
	return out;
}
