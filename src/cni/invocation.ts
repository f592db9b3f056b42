// What a plugin is given: its environment and its stdin config. Pure, so the exact bytes a plugin
// sees can be unit-tested (libcni's buildOneConfig, injectRuntimeConfig and invoke.Args).
import type { NetworkConfigList, PluginConf } from "./config";
import { type CniResult, resultToVersion } from "./result";

export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION" | "STATUS" | "GC";

/** One attachment: what libcni calls a RuntimeConf. */
export interface RuntimeConf {
	containerId: string;
	/** Path of the network namespace (may be gone on DEL). */
	netns: string;
	ifName: string;
	/** CNI_ARGS pairs, in order (e.g. IgnoreUnknown=1, K8S_POD_NAME=…, IP=…). */
	args?: [string, string][];
	/** Capability arguments; each plugin gets only those it declares (portMappings, ips, mac, aliases, …). */
	capabilityArgs?: Record<string, unknown>;
}

/** `K=V;K2=V2`, the CNI_ARGS form (libcni's stringify). */
export function formatCniArgs(args: readonly [string, string][] = []): string {
	return args.map(([k, v]) => `${k}=${v}`).join(";");
}

/** cnitool's parseArgs: every pair must be `K=V` with both sides non-empty. */
export function parseCniArgs(text: string): [string, string][] {
	if (text === "") return [];
	return text.split(";").map((pair) => {
		const kv = pair.split("=");
		if (kv.length !== 2 || !kv[0] || !kv[1]) {
			throw new Error(`invalid CNI_ARGS pair ${JSON.stringify(pair)}`);
		}
		return [kv[0], kv[1]];
	});
}

/**
 * The plugin's environment: the caller's environment with the CNI variables set last (libcni
 * appends them and keeps the last of duplicates). STATUS, GC and VERSION carry no attachment.
 */
export function buildEnv(
	command: CniCommand,
	rt: RuntimeConf | undefined,
	pluginDirs: readonly string[],
	inherited: Record<string, string | undefined>,
): Record<string, string> {
	const env: Record<string, string> = {};
	for (const [k, v] of Object.entries(inherited)) if (v !== undefined) env[k] = v;
	env.CNI_COMMAND = command;
	env.CNI_CONTAINERID = rt?.containerId ?? "";
	env.CNI_NETNS = rt?.netns ?? "";
	env.CNI_ARGS = formatCniArgs(rt?.args);
	env.CNI_IFNAME = rt?.ifName ?? "";
	env.CNI_PATH = pluginDirs.join(":");
	if (!env.PATH) env.PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
	return env;
}

/** The `runtimeConfig` a plugin gets: only the capabilities it declares true (CONVENTIONS.md). */
export function selectRuntimeConfig(
	capabilities: Record<string, boolean> | undefined,
	capabilityArgs: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
	if (!capabilities || !capabilityArgs) return undefined;
	const rc: Record<string, unknown> = {};
	for (const [cap, on] of Object.entries(capabilities)) {
		if (on && capabilityArgs[cap] !== undefined) rc[cap] = capabilityArgs[cap];
	}
	return Object.keys(rc).length > 0 ? rc : undefined;
}

/**
 * The stdin config of one plugin for ADD/DEL/CHECK: the plugin object with the list's `name` and
 * `cniVersion`, `prevResult` in the list's version, and `runtimeConfig` when any capability applies.
 */
export function buildPluginConfig(
	list: Pick<NetworkConfigList, "name" | "cniVersion">,
	plugin: PluginConf,
	prevResult: CniResult | undefined,
	capabilityArgs: Record<string, unknown> | undefined,
): Record<string, unknown> {
	const conf: Record<string, unknown> = {
		...plugin,
		name: list.name,
		cniVersion: list.cniVersion,
	};
	if (prevResult) conf.prevResult = resultToVersion(prevResult, list.cniVersion);
	const rc = selectRuntimeConfig(plugin.capabilities, capabilityArgs);
	if (rc) conf.runtimeConfig = rc;
	return conf;
}

/** The stdin config for STATUS and GC: name and version only, plus GC's valid attachments. */
export function buildListLevelConfig(
	list: Pick<NetworkConfigList, "name" | "cniVersion">,
	plugin: PluginConf,
	validAttachments?: { containerID: string; ifname: string }[],
): Record<string, unknown> {
	const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
	if (validAttachments) {
		conf["cni.dev/valid-attachments"] = validAttachments;
		// libcni sends the spec's first, mistaken key too (containernetworking/cni#1101).
		conf["cni.dev/attachments"] = validAttachments;
	}
	return conf;
}

/** cnitool's container ID: `cnitool-` + the first 10 bytes of sha512(absolute netns path), hex. */
export function cnitoolContainerId(netnsPath: string): string {
	const hex = new Bun.CryptoHasher("sha512").update(netnsPath).digest("hex");
	return `cnitool-${hex.slice(0, 20)}`;
}

/** libcni's ValidateInterfaceName. Returns the problem, or undefined when valid. */
export function interfaceNameProblem(name: string): string | undefined {
	if (name === "") return "interface name is empty";
	if (name.length > 15)
		return `interface name ${JSON.stringify(name)} is longer than 15 characters`;
	if (name === "." || name === "..") return `interface name ${JSON.stringify(name)} is not valid`;
	if (/[/:\s]/.test(name)) {
		return `interface name ${JSON.stringify(name)} contains '/', ':' or whitespace`;
	}
	return undefined;
}
