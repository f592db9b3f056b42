// The CNI runtime: libcni's AddNetworkList / CheckNetworkList / DelNetworkList / GCNetworkList /
// GetStatusNetworkList, with two things libcni leaves to its callers done here: a failed ADD is
// rolled back, and DEL prefers the config kept in the cache (so it works after the file changed).
import { ConflictError, CtrnetError, MultiError, NotFoundError, UsageError } from "../errors";
import { writeErr } from "../io";
import { parseJson } from "../json";
import {
	attachmentConf,
	type CachedAttachment,
	cachedAttachments,
	cacheFile,
	deleteCache,
	readCache,
	rewriteCache,
	writeCache,
} from "./cache";
import { type NetworkConfigList, type PluginConf, parseCachedConfig } from "./config";
import { execPlugin, PluginError, type PluginRun } from "./exec";
import {
	buildEnv,
	buildListLevelConfig,
	buildPluginConfig,
	type CniCommand,
	interfaceNameProblem,
	type RuntimeConf,
} from "./invocation";
import { missingPluginMessage } from "./load";
import { findPlugin } from "./plugins";
import { type CniResult, parseResult } from "./result";
import { CNI_NAME_PATTERN } from "./schema";
import { atLeast, LATEST_VERSION } from "./version";

export interface CniOptions {
	pluginDirs: readonly string[];
	/** libcni's cache dir (default /var/lib/cni); results live in <cacheDir>/results. */
	cacheDir: string;
	/** Per plugin process; it is killed after this. Default 60 s (iptables can be slow). */
	timeoutMs?: number;
	/** The environment plugins inherit (default process.env). */
	env?: Record<string, string | undefined>;
	/** Called after each plugin process; default: print it when CTRNET_TRACE_PLUGINS=1. */
	onRun?: (run: PluginRun) => void;
	/** Every plugin runs under this command (nsenter into a rootless netns, DESIGN 13). */
	wrap?: readonly string[];
}

function traceToStderr(r: PluginRun): void {
	writeErr(
		`trace: plugin ${r.plugin} ${r.command} network=${r.network} ms=${r.ms.toFixed(2)} at=${r.startedAt.toFixed(2)}\n`,
	);
}

export class Cni {
	readonly pluginDirs: readonly string[];
	readonly cacheDir: string;
	private readonly timeoutMs: number;
	private readonly env: Record<string, string | undefined>;
	private readonly onRun?: (run: PluginRun) => void;
	private readonly wrap?: readonly string[];

	constructor(opts: CniOptions) {
		this.wrap = opts.wrap;
		this.pluginDirs = opts.pluginDirs;
		this.cacheDir = opts.cacheDir;
		this.timeoutMs = opts.timeoutMs ?? 60_000;
		this.env = opts.env ?? process.env;
		this.onRun = opts.onRun ?? (this.env.CTRNET_TRACE_PLUGINS === "1" ? traceToStderr : undefined);
	}

	/**
	 * ADD: runs the list in order, each plugin getting the previous result; caches and returns the
	 * last result. The cache is written after every plugin, so that a kill -9 half-way leaves what
	 * a later DEL needs (the firewall plugin finds its rules by the address in prevResult). If a
	 * plugin fails, every plugin that succeeded gets DEL in reverse order before the error is
	 * thrown — not the failing one: its DEL would remove what it refused to create, such as
	 * another container's interface of the same name. When that rollback fails too, the error
	 * carries `leftover: true` and the cache entry stays for a later DEL.
	 */
	async addNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<CniResult> {
		checkAttachment(list.name, rt);
		// The spec forbids a second ADD of one attachment, and here its rollback would DEL the
		// first one (host-local releases by container ID): refuse it while the cache says it exists.
		if (readCache(this.cacheDir, list.name, rt).kind !== "none") {
			throw new ConflictError(
				`container ${rt.containerId} is already attached to network ${list.name} as ${rt.ifName} (${cacheFile(this.cacheDir, list.name, rt)}); DEL it first`,
			);
		}
		const paths = this.pluginPaths(list);
		let result: CniResult | undefined;
		for (let i = 0; i < list.plugins.length; i++) {
			const plugin = list.plugins[i] as PluginConf;
			try {
				const out = await this.run("ADD", paths[i] as string, list, plugin, rt, result);
				result = parseAddOutput(out, list, plugin);
			} catch (err) {
				await this.rollback(list, paths, i - 1, rt, result, err);
				throw err;
			}
			try {
				writeCache(this.cacheDir, list, rt, result);
			} catch (err) {
				const e = new CtrnetError(
					`failed to cache the result of network ${list.name}: ${(err as Error).message}`,
				);
				await this.rollback(list, paths, i, rt, result, e);
				throw e;
			}
		}
		return result as CniResult;
	}

	/** CHECK (0.4.0+): every plugin in order, with the cached result. */
	async checkNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
		checkAttachment(list.name, rt);
		if (!atLeast(list.cniVersion, "0.4.0")) {
			throw new UsageError(
				`configuration version "${list.cniVersion}" does not support the CHECK command`,
			);
		}
		if (list.disableCheck) return;
		const cached = this.cachedResult(list.name, rt);
		const paths = this.pluginPaths(list);
		for (let i = 0; i < list.plugins.length; i++) {
			await this.run("CHECK", paths[i] as string, list, list.plugins[i] as PluginConf, rt, cached);
		}
	}

	/**
	 * DEL: the list in reverse order with the cached result (0.4.0+). The config, CNI_ARGS and
	 * capability arguments kept in the cache win over `list` (they are what ADD used); `list` may be
	 * undefined when the network's file is gone. Goes on past a failing plugin, then throws them
	 * all; the cache entry is removed only when every plugin succeeded, so DEL can be retried — and
	 * the entry remembers which plugins' DEL already succeeded, so a retry runs only the others
	 * (a plugin's DEL is not always idempotent: the bridge plugin fails on the NAT chain its own
	 * first DEL removed).
	 */
	async delNetworkList(
		list: NetworkConfigList | undefined,
		rt: RuntimeConf,
		networkName = list?.name,
	): Promise<void> {
		if (!networkName) throw new UsageError("DEL needs a network list or a network name");
		checkAttachment(networkName, rt);
		const cache = readCache(this.cacheDir, networkName, rt);
		let effective = list;
		let effectiveRt = rt;
		if (cache.kind === "entry") {
			if (cache.config) {
				const parsed = parseCachedConfig(cache.config, networkName);
				if (parsed.ok) effective = parsed.list;
			}
			effectiveRt = {
				...rt,
				args: cache.entry.cniArgs ?? rt.args,
				capabilityArgs: cache.entry.capabilityArgs ?? rt.capabilityArgs,
			};
		}
		if (!effective) {
			throw new NotFoundError(
				`network ${networkName} not found, and no cached config for container ${rt.containerId} interface ${rt.ifName}`,
			);
		}
		let prev: CniResult | undefined;
		if (atLeast(effective.cniVersion, "0.4.0")) prev = resultFromCache(cache, effective.cniVersion);
		const done = new Set(cache.kind === "entry" ? (cache.entry.ctrnetDeleted ?? []) : []);
		const errors = await this.delPlugins(
			effective,
			this.pluginPathsLenient(effective),
			effective.plugins.length - 1,
			effectiveRt,
			prev,
			done,
		);
		if (errors.length === 0) {
			deleteCache(this.cacheDir, networkName, rt);
			return;
		}
		if (cache.kind === "entry" && done.size > 0) {
			rewriteCache(this.cacheDir, networkName, rt, { ...cache.entry, ctrnetDeleted: [...done] });
		}
		throw errors.length === 1 ? errors[0] : new MultiError(errors);
	}

	/** STATUS (1.1.0+): is every plugin ready for ADD? Stops at the first that is not. */
	async statusNetworkList(list: NetworkConfigList): Promise<void> {
		if (!atLeast(list.cniVersion, "1.1.0")) return;
		const paths = this.pluginPaths(list);
		for (let i = 0; i < list.plugins.length; i++) {
			const conf = buildListLevelConfig(list, list.plugins[i] as PluginConf);
			await this.exec("STATUS", paths[i] as string, list.name, conf, undefined);
		}
	}

	/**
	 * GC: DEL every cached attachment of this network that is not in `valid` (none given: all of
	 * them, like cnitool), then GC to every plugin (1.1.0+). Goes on past errors.
	 */
	async gcNetworkList(
		list: NetworkConfigList,
		valid?: { containerID: string; ifname: string }[],
	): Promise<void> {
		if (list.disableGC) return;
		const errors: Error[] = [];
		const keep = new Set((valid ?? []).map((a) => `${a.containerID}\0${a.ifname}`));
		for (const a of this.cachedAttachments()) {
			if (a.network !== list.name || keep.has(`${a.containerId}\0${a.ifName}`)) continue;
			try {
				await this.delNetworkList(list, attachmentConf(a));
			} catch (e) {
				errors.push(
					new CtrnetError(
						`failed to delete stale attachment ${a.containerId} ${a.ifName}: ${(e as Error).message}`,
					),
				);
			}
		}
		if (atLeast(list.cniVersion, "1.1.0")) {
			const paths = this.pluginPathsLenient(list);
			for (let i = 0; i < list.plugins.length; i++) {
				const plugin = list.plugins[i] as PluginConf;
				const path = paths[i];
				if (!path) {
					errors.push(new CtrnetError(missingPluginMessage([plugin.type], this.pluginDirs)));
					continue;
				}
				try {
					await this.exec(
						"GC",
						path,
						list.name,
						buildListLevelConfig(list, plugin, valid ?? []),
						undefined,
					);
				} catch (e) {
					errors.push(e as Error);
				}
			}
		}
		if (errors.length) throw errors.length === 1 ? errors[0] : new MultiError(errors);
	}

	/** The cached result of an attachment (any version, read into the model), if there is one. */
	cachedResult(network: string, rt: RuntimeConf): CniResult | undefined {
		return resultFromCache(readCache(this.cacheDir, network, rt), LATEST_VERSION);
	}

	/** Every cached attachment, or those of one container (libcni's GetCachedAttachments). */
	cachedAttachments(containerId?: string): CachedAttachment[] {
		return cachedAttachments(this.cacheDir, containerId);
	}

	// ---- internals

	private pluginPaths(list: NetworkConfigList): string[] {
		const paths = this.pluginPathsLenient(list);
		const missing = list.plugins.filter((_, i) => !paths[i]).map((p) => p.type);
		if (missing.length) {
			throw new NotFoundError(
				`network ${list.name}: ${missingPluginMessage([...new Set(missing)], this.pluginDirs)}`,
			);
		}
		return paths as string[];
	}

	private pluginPathsLenient(list: NetworkConfigList): (string | undefined)[] {
		return list.plugins.map((p) => findPlugin(p.type, this.pluginDirs));
	}

	private run(
		command: CniCommand,
		path: string,
		list: NetworkConfigList,
		plugin: PluginConf,
		rt: RuntimeConf,
		prev: CniResult | undefined,
	): Promise<string> {
		const conf = buildPluginConfig(list, plugin, prev, rt.capabilityArgs);
		return this.exec(command, path, list.name, conf, rt);
	}

	private exec(
		command: CniCommand,
		path: string,
		network: string,
		conf: unknown,
		rt: RuntimeConf | undefined,
	): Promise<string> {
		const env = buildEnv(command, rt, this.pluginDirs, this.env);
		return execPlugin(path, command, network, conf, env, {
			timeoutMs: this.timeoutMs,
			onRun: this.onRun,
			wrap: this.wrap,
		});
	}

	/** DEL of plugins[last..0]; returns the failures (a missing binary counts as one). */
	private async delPlugins(
		list: NetworkConfigList,
		paths: (string | undefined)[],
		last: number,
		rt: RuntimeConf,
		prev: CniResult | undefined,
		done: Set<number> = new Set(),
	): Promise<Error[]> {
		const errors: Error[] = [];
		const prevForDel = atLeast(list.cniVersion, "0.4.0") ? prev : undefined;
		for (let i = last; i >= 0; i--) {
			if (done.has(i)) continue;
			const plugin = list.plugins[i] as PluginConf;
			const path = paths[i];
			if (!path) {
				errors.push(
					new CtrnetError(
						`network ${list.name}: ${missingPluginMessage([plugin.type], this.pluginDirs)}`,
					),
				);
				continue;
			}
			try {
				await this.run("DEL", path, list, plugin, rt, prevForDel);
				done.add(i);
			} catch (e) {
				errors.push(e as Error);
			}
		}
		return errors;
	}

	private async rollback(
		list: NetworkConfigList,
		paths: string[],
		failedAt: number,
		rt: RuntimeConf,
		prev: CniResult | undefined,
		cause: unknown,
	): Promise<void> {
		const errors = await this.delPlugins(list, paths, failedAt, rt, prev);
		if (errors.length === 0) {
			deleteCache(this.cacheDir, list.name, rt);
			return;
		}
		if (cause instanceof Error) {
			cause.message += `; rollback also failed: ${errors.map((e) => e.message).join("; ")}`;
			(cause as Error & { leftover?: boolean }).leftover = true;
		}
	}
}

function checkAttachment(network: string, rt: RuntimeConf): void {
	if (!CNI_NAME_PATTERN.test(rt.containerId)) {
		throw new UsageError(`invalid container ID ${JSON.stringify(rt.containerId)}`);
	}
	if (!CNI_NAME_PATTERN.test(network)) {
		throw new UsageError(`invalid network name ${JSON.stringify(network)}`);
	}
	const bad = interfaceNameProblem(rt.ifName);
	if (bad) throw new UsageError(bad);
}

function parseAddOutput(out: string, list: NetworkConfigList, plugin: PluginConf): CniResult {
	const json = parseJson(out);
	if (json === undefined) {
		throw new PluginError(
			plugin.type,
			"ADD",
			list.name,
			999,
			`returned no result: ${JSON.stringify(out.trim())}`,
		);
	}
	try {
		return parseResult(json, list.cniVersion);
	} catch (e) {
		throw new PluginError(plugin.type, "ADD", list.name, 999, (e as Error).message);
	}
}

function resultFromCache(
	cache: ReturnType<typeof readCache>,
	fallbackVersion: string,
): CniResult | undefined {
	try {
		if (cache.kind === "entry" && cache.entry.result) {
			return parseResult(cache.entry.result, fallbackVersion);
		}
		if (cache.kind === "legacy") return parseResult(cache.result, fallbackVersion);
	} catch {
		// An unreadable cached result is dropped, as libcni does: DEL goes on without prevResult.
	}
	return undefined;
}
