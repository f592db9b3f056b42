// ctrnet's CNI runtime: a libcni equal (CNI spec 1.1.0), used by `ctrnet cni …` and by container
// setup/teardown.
//
// Loading networks (effects: fs)
//   loadNetworks(configDir, pluginDirs) -> { networks: Map<name, NetworkConfigList>, errors: ConfigProblem[] }
//       *.conf/*.conflist/*.json sorted by file name, first name wins, .conf promoted to a list;
//       a bad file or a missing plugin binary is an entry in `errors`, never a throw.
//   findNetwork(configDir, name) -> NetworkConfigList      (throws NotFoundError; reads only until found)
//   parseConfigFile(file, text) -> {ok, list} | {ok: false, error}                       (pure)
//
// Running them (effects: spawn, cache files)
//   const cni = new Cni({ pluginDirs, cacheDir, timeoutMs?, env?, onRun? })
//   rt: RuntimeConf = { containerId, netns, ifName, args?: [k, v][],
//                       capabilityArgs?: { portMappings?, ips?, mac?, aliases?, ... } }
//   await cni.addNetworkList(list, rt) -> CniResult     in order, prevResult chained, cached;
//                                                       a failure is rolled back (DEL) before it throws
//   await cni.delNetworkList(list | undefined, rt, name?)  reverse order, cached result and config;
//                                                       works after the conflist was changed or removed
//   await cni.checkNetworkList(list, rt)                 (0.4.0+)
//   await cni.statusNetworkList(list)                    (1.1.0+, else a no-op)
//   await cni.gcNetworkList(list, validAttachments?)     stale cached attachments DEL'd, then GC (1.1.0+)
//   cni.cachedResult(network, rt) -> CniResult | undefined;  cni.cachedAttachments(containerId?)
//   Failures: PluginError (a CtrnetError: plugin, command, network, code, msg, details; its message
//   carries the plugin's own msg), NotFoundError (network or plugin binary), UsageError (bad IDs).
//   CTRNET_TRACE_PLUGINS=1 prints each plugin's wall time on stderr.
//
// Results (pure)
//   CniResult is one model for every version; parseResult(json, fallbackVersion) reads 0.1.0–1.1.0,
//   resultToVersion(result, version) writes it back as that version's JSON.
//
// Invocation details (pure, for tests and for callers building CNI_ARGS)
//   buildEnv, buildPluginConfig, selectRuntimeConfig, formatCniArgs, parseCniArgs, cnitoolContainerId.

export { Cni, type CniOptions } from "./api";
export { attachmentConf, type CachedAttachment, cacheFile } from "./cache";
export { type NetworkConfigList, type PluginConf, parseConfigFile } from "./config";
export { PluginError, type PluginRun } from "./exec";
export {
	buildEnv,
	buildPluginConfig,
	type CniCommand,
	cnitoolContainerId,
	formatCniArgs,
	parseCniArgs,
	type RuntimeConf,
	selectRuntimeConfig,
} from "./invocation";
export {
	type ConfigProblem,
	configFiles,
	findNetwork,
	type LoadedNetworks,
	loadNetworks,
	missingPlugins,
} from "./load";
export { findPlugin, listPlugins } from "./plugins";
export {
	type CniDns,
	type CniInterface,
	type CniIP,
	type CniResult,
	type CniRoute,
	parseResult,
	resultToVersion,
} from "./result";
export { compareVersions, SUPPORTED_VERSIONS } from "./version";
