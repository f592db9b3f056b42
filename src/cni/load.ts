// Reading a config directory: `*.conf`, `*.conflist`, `*.json` in sorted file-name order, the first
// file with a name wins (ocicni). A bad file is reported by name and field and the others still
// load; a network whose plugin binary is in no plugin dir is reported with the dirs searched.
import { readdirSync, readFileSync } from "node:fs";
import { NotFoundError } from "../errors";
import { type NetworkConfigList, parseConfigFile } from "./config";
import { findPlugin } from "./plugins";

export interface ConfigProblem {
	file: string;
	/** Set when the file parsed and the problem is with its network (missing plugin, duplicate). */
	network?: string;
	message: string;
}

export interface LoadedNetworks {
	/** By name, in file order. Networks with missing plugins are here too (and in `errors`). */
	networks: Map<string, NetworkConfigList>;
	errors: ConfigProblem[];
}

const CONFIG_FILE = /\.(conf|conflist|json)$/;

/** The config files of `dir`, sorted; [] when the dir does not exist. */
export function configFiles(dir: string): string[] {
	let names: string[];
	try {
		names = readdirSync(dir, { withFileTypes: true })
			.filter((d) => !d.isDirectory() && CONFIG_FILE.test(d.name))
			.map((d) => d.name);
	} catch {
		return [];
	}
	return names.sort().map((n) => `${dir}/${n}`);
}

function readList(file: string): { list?: NetworkConfigList; problem?: ConfigProblem } {
	let text: string;
	try {
		text = readFileSync(file, "utf8");
	} catch (e) {
		return { problem: { file, message: (e as Error).message } };
	}
	const out = parseConfigFile(file, text);
	return out.ok ? { list: out.list } : { problem: { file, message: out.error } };
}

/** The plugin types of `list` found in no dir of `pluginDirs`. */
export function missingPlugins(list: NetworkConfigList, pluginDirs: readonly string[]): string[] {
	return [...new Set(list.plugins.map((p) => p.type))].filter((t) => !findPlugin(t, pluginDirs));
}

export function missingPluginMessage(types: string[], pluginDirs: readonly string[]): string {
	return `plugin${types.length > 1 ? "s" : ""} ${types.join(", ")} not found in ${pluginDirs.join(":")}`;
}

export function loadNetworks(configDir: string, pluginDirs: readonly string[]): LoadedNetworks {
	const networks = new Map<string, NetworkConfigList>();
	const errors: ConfigProblem[] = [];
	for (const file of configFiles(configDir)) {
		const { list, problem } = readList(file);
		if (problem) errors.push(problem);
		if (!list) continue;
		const first = networks.get(list.name);
		if (first) {
			errors.push({
				file,
				network: list.name,
				message: `network ${list.name} is already defined by ${first.file}; ignored`,
			});
			continue;
		}
		networks.set(list.name, list);
		const missing = missingPlugins(list, pluginDirs);
		if (missing.length) {
			errors.push({ file, network: list.name, message: missingPluginMessage(missing, pluginDirs) });
		}
	}
	return { networks, errors };
}

/**
 * The network called `name`: files are read in order only until it is found (the ADD hot path).
 * Not found: NotFoundError, naming the files that could not be read, since one of them may be it.
 */
export function findNetwork(configDir: string, name: string): NetworkConfigList {
	const problems: ConfigProblem[] = [];
	for (const file of configFiles(configDir)) {
		const { list, problem } = readList(file);
		if (list?.name === name) return list;
		if (problem) problems.push(problem);
	}
	const why = problems.length
		? ` (unreadable: ${problems.map((p) => `${p.file}: ${p.message}`).join("; ")})`
		: "";
	throw new NotFoundError(`network ${name} not found in ${configDir}${why}`);
}
