// Finding CNI plugin binaries and asking each which spec versions it speaks (CNI_COMMAND=VERSION).
import { accessSync, constants, readdirSync, statSync } from "node:fs";
import { parseJson } from "../json";
import { type PluginProcess, runPluginProcess } from "./exec";
import { isPluginName, VersionInfoSchema } from "./schema";

export interface PluginInfo {
	name: string;
	path: string;
	/** Versions from VERSION; empty when the binary did not answer like a CNI plugin. */
	versions: string[];
	error?: string;
}

function isExecutableFile(path: string): boolean {
	try {
		if (!statSync(path).isFile()) return false;
		accessSync(path, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

/** Plugin binaries in `dirs`, in dir order; the first dir holding a name wins (like libcni's FindInPath). */
export function listPlugins(dirs: readonly string[]): { name: string; path: string }[] {
	const found = new Map<string, string>();
	for (const dir of dirs) {
		let names: string[];
		try {
			names = readdirSync(dir).sort();
		} catch {
			continue;
		}
		for (const name of names) {
			const path = `${dir}/${name}`;
			if (!found.has(name) && isExecutableFile(path)) found.set(name, path);
		}
	}
	return [...found].map(([name, path]) => ({ name, path }));
}

/** Finds one plugin by name in `dirs`; undefined when no dir has it. */
export function findPlugin(name: string, dirs: readonly string[]): string | undefined {
	if (!isPluginName(name)) return undefined;
	for (const dir of dirs) {
		const path = `${dir}/${name}`;
		if (isExecutableFile(path)) return path;
	}
	return undefined;
}

/** Runs `CNI_COMMAND=VERSION` against a plugin. */
export async function pluginVersions(path: string, timeoutMs = 5000): Promise<PluginInfo> {
	const name = path.slice(path.lastIndexOf("/") + 1);
	const env = { CNI_COMMAND: "VERSION", PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" };
	let run: PluginProcess;
	try {
		run = await runPluginProcess(path, env, { cniVersion: "0.4.0" }, timeoutMs);
	} catch (e) {
		return { name, path, versions: [], error: `cannot run: ${(e as Error).message}` };
	}
	const parsed = VersionInfoSchema().safeParse(parseJson(run.stdout));
	if (run.code !== 0 || !parsed.success) {
		return { name, path, versions: [], error: `VERSION failed (exit ${run.code})` };
	}
	return { name, path, versions: parsed.data.supportedVersions };
}
