// What every command can ask for: the resolved config (built once, on first use, so that commands
// that do not need it, like `version`, never load zod) and the output format.

import { type GlobalFlags, OUTPUT_FORMATS, type OutputFormat } from "../config/options";
import type { Config } from "../config/schema";

let flags: GlobalFlags = {};
let config: Config | undefined;

export function setGlobalFlags(f: GlobalFlags): void {
	flags = f;
	config = undefined;
}

/** The global options this run was given (flags only, not their environment variables). */
export function globalFlags(): GlobalFlags {
	return flags;
}

export async function getConfig(): Promise<Config> {
	if (!config) {
		const { resolveConfig } = await import("../config/resolve");
		config = resolveConfig(flags, process.env, {
			euid: process.geteuid?.() ?? 0,
			uid: process.getuid?.() ?? 0,
			home: process.env.HOME || "/root",
		});
	}
	return config;
}

/** The output format without loading the full config (validated by getConfig when unusual). */
export async function outputFormat(): Promise<OutputFormat> {
	const f = flags.format ?? process.env.CTRNET_FORMAT ?? "table";
	if ((OUTPUT_FORMATS as readonly string[]).includes(f)) return f as OutputFormat;
	return (await getConfig()).format;
}
