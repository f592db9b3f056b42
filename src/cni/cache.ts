// libcni's result cache: <cacheDir>/results/<network>-<containerID>-<ifname>, kind cniCacheV1,
// written after a successful ADD and removed after DEL, byte-compatible with libcni so that cnitool
// or podman can tear down what ctrnet set up (and the other way round). Dirs 0700, files 0600.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { fileNameFor, writeFileAtomic } from "../files/atomic";
import type { NetworkConfigList } from "./config";
import type { RuntimeConf } from "./invocation";
import { type CniResult, resultToVersion } from "./result";
import { type CacheEntry, CacheEntrySchema } from "./schema";

export const CACHE_KIND = "cniCacheV1";

export function cacheFile(cacheDir: string, network: string, rt: RuntimeConf): string {
	// libcni's name; only a name too long for any file system (which libcni cannot write either)
	// becomes a shorter, hashed one, so that a 253-character ID can still be set up and torn down.
	return `${cacheDir}/results/${fileNameFor(`${network}-${rt.containerId}-${rt.ifName}`)}`;
}

/** The entry as libcni's cachedInfo marshals it: same keys, same order, same omitempty. */
export function cacheEntryJson(
	list: Pick<NetworkConfigList, "name" | "cniVersion" | "bytes">,
	rt: RuntimeConf,
	result: CniResult,
): string {
	const entry: Record<string, unknown> = {
		kind: CACHE_KIND,
		containerId: rt.containerId,
		config: Buffer.from(list.bytes).toString("base64"),
		ifName: rt.ifName,
		networkName: list.name,
	};
	if (rt.netns) entry.netns = rt.netns;
	if (rt.args?.length) entry.cniArgs = rt.args;
	if (rt.capabilityArgs && Object.keys(rt.capabilityArgs).length) {
		entry.capabilityArgs = rt.capabilityArgs;
	}
	entry.result = resultToVersion(result, list.cniVersion);
	return JSON.stringify(entry);
}

export function writeCache(
	cacheDir: string,
	list: Pick<NetworkConfigList, "name" | "cniVersion" | "bytes">,
	rt: RuntimeConf,
	result: CniResult,
): void {
	mkdirSync(`${cacheDir}/results`, { recursive: true, mode: 0o700 });
	// Written whole, then renamed: a reader never sees half an entry.
	writeFileAtomic(cacheFile(cacheDir, list.name, rt), cacheEntryJson(list, rt, result), {
		mode: 0o600,
		durable: false,
	});
}

/** Replaces an entry as read (with ctrnet's DEL progress added): same keys, same order. */
export function rewriteCache(
	cacheDir: string,
	network: string,
	rt: RuntimeConf,
	entry: CacheEntry,
): void {
	writeFileAtomic(cacheFile(cacheDir, network, rt), JSON.stringify(entry), {
		mode: 0o600,
		durable: false,
	});
}

export type CacheRead =
	| { kind: "none" }
	| { kind: "entry"; entry: CacheEntry; config?: string }
	/** A pre-cniCacheV1 file: a bare result. */
	| { kind: "legacy"; result: unknown }
	| { kind: "corrupt"; error: string };

export function readCache(cacheDir: string, network: string, rt: RuntimeConf): CacheRead {
	let text: string;
	try {
		text = readFileSync(cacheFile(cacheDir, network, rt), "utf8");
	} catch {
		return { kind: "none" };
	}
	return parseCacheText(text);
}

export function parseCacheText(text: string): CacheRead {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (e) {
		return { kind: "corrupt", error: (e as Error).message };
	}
	const parsed = CacheEntrySchema().safeParse(json);
	if (!parsed.success || parsed.data.kind !== CACHE_KIND) {
		return typeof json === "object" && json !== null && "cniVersion" in json
			? { kind: "legacy", result: json }
			: { kind: "corrupt", error: "not a cniCacheV1 entry" };
	}
	const config = parsed.data.config
		? Buffer.from(parsed.data.config, "base64").toString("utf8")
		: undefined;
	return { kind: "entry", entry: parsed.data, config };
}

export function deleteCache(cacheDir: string, network: string, rt: RuntimeConf): void {
	rmSync(cacheFile(cacheDir, network, rt), { force: true });
}

export interface CachedAttachment {
	containerId: string;
	network: string;
	ifName: string;
	netns?: string;
	/** The config text the attachment was added with. */
	config?: string;
	cniArgs?: [string, string][];
	capabilityArgs?: Record<string, unknown>;
}

/** The RuntimeConf that tears a cached attachment down (DEL with what its ADD used). */
export function attachmentConf(a: CachedAttachment): RuntimeConf {
	return {
		containerId: a.containerId,
		netns: a.netns ?? "",
		ifName: a.ifName,
		args: a.cniArgs,
		capabilityArgs: a.capabilityArgs,
	};
}

/** libcni's GetCachedAttachments: every cniCacheV1 entry, for one container when `containerId` is set. */
export function cachedAttachments(cacheDir: string, containerId?: string): CachedAttachment[] {
	let names: string[];
	try {
		names = readdirSync(`${cacheDir}/results`).sort();
	} catch {
		return [];
	}
	const out: CachedAttachment[] = [];
	for (const name of names) {
		if (containerId) {
			const pos = name.indexOf(`-${containerId}-`);
			if (pos <= 0 || pos + containerId.length + 2 >= name.length) continue;
		}
		let text: string;
		try {
			text = readFileSync(`${cacheDir}/results/${name}`, "utf8");
		} catch {
			continue;
		}
		const read = parseCacheText(text);
		if (read.kind !== "entry") continue;
		const e = read.entry;
		if (containerId && e.containerId !== containerId) continue;
		if (!e.ifName || !e.networkName) continue;
		out.push({
			containerId: e.containerId,
			network: e.networkName,
			ifName: e.ifName,
			netns: e.netns,
			config: read.config,
			cniArgs: e.cniArgs ?? undefined,
			capabilityArgs: e.capabilityArgs ?? undefined,
		});
	}
	return out;
}
