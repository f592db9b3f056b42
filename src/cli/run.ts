// Runs the CLI: global options out of argv, help, the command, and the error model of DESIGN 4
// (one line `Error: …` on stderr, exit 125, the stack only at --log-level debug).

import { extractGlobalFlags } from "../config/options";
import { exitCodeOf, formatError, UsageError } from "../errors";
import { writeErr, writeOut } from "../io";
import { initLogging, LOG_LEVELS, type LogLevel } from "../log";
import { getConfig, setGlobalFlags } from "./context";
import { root } from "./root";
import { printVersion } from "./version";

const HELP = new Set(["--help", "-h"]);

function wantsHelp(args: string[]): boolean {
	const end = args.indexOf("--");
	return (end < 0 ? args : args.slice(0, end)).some((a) => HELP.has(a));
}

async function showHelp(args: string[]): Promise<void> {
	const { renderUsage } = await import("citty");
	const { resolveCommand } = await import("./help");
	const { asCitty } = await import("./command");
	const { cmd, parent } = await resolveCommand(
		root,
		args.filter((a) => !HELP.has(a)),
		true,
	);
	let text = await renderUsage(asCitty(cmd), parent && asCitty(parent));
	// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes
	if (!process.stdout.isTTY) text = text.replace(/\u001b\[[0-9;]*m/g, "");
	writeOut(`${text}\n`);
}

export async function run(argv: string[]): Promise<number> {
	let debug = false;
	try {
		let parsed: ReturnType<typeof extractGlobalFlags>;
		try {
			parsed = extractGlobalFlags(argv);
		} catch (e) {
			throw new UsageError((e as Error).message);
		}
		setGlobalFlags(parsed.flags);
		const level = parsed.flags.logLevel ?? process.env.CTRNET_LOG_LEVEL ?? "warn";
		// An unusual level is validated (and refused) by the full config schema.
		if (!(LOG_LEVELS as readonly string[]).includes(level)) await getConfig();
		debug = level === "debug";
		await initLogging(level as LogLevel);

		if (parsed.rest.length === 0 || wantsHelp(parsed.rest)) {
			await showHelp(parsed.rest);
			return 0;
		}
		// `ctrnet version` is what scripts call to probe the binary: answer it without loading
		// citty (whose node:util import alone is a large share of the start-up).
		if (
			parsed.rest.length === 1 &&
			["version", "--version", "-V"].includes(parsed.rest[0] as string)
		) {
			await printVersion();
			return 0;
		}
		const { resolveCommand } = await import("./help");
		const { runWith } = await import("./command");
		const { cmd, rest, path } = await resolveCommand(root, parsed.rest);
		if (!cmd.run) {
			const subs = Object.keys(cmd.subCommands ?? {}).join("|");
			throw new UsageError(`missing command: ${path.join(" ")} <${subs}>`);
		}
		await runWith(cmd, rest);
		return 0;
	} catch (err) {
		writeErr(`${formatError(err, debug)}\n`);
		return exitCodeOf(err);
	}
}
