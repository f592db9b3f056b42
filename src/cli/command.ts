// ctrnet's commands: citty's shape (so citty renders their help), run by ctrnet's own dispatcher
// (run.ts) with one strict parse of their arguments (argv.ts). A command is a plain object, so
// defining one loads no citty code.
import type { CommandDef } from "citty";
import { type ArgsDef, type ParsedArgs, parseArgs } from "./argv";

type Lazy<T> = T | (() => T | Promise<T>);

export interface Command<T extends ArgsDef = ArgsDef> {
	meta: { name: string; description: string; hidden?: boolean };
	args?: T;
	/** For variadic commands (`rm NAME...`): the most positionals accepted. Default: those declared. */
	maxPositionals?: number;
	subCommands?: Record<string, Lazy<Command<ArgsDef>>>;
	run?(ctx: { args: ParsedArgs<T> }): unknown | Promise<unknown>;
}

export function command<const T extends ArgsDef = ArgsDef>(def: Command<T>): Command<T> {
	return def;
}

/** Runs a command that has `run` with `rawArgs` (its arguments, after the command's name). */
export async function runWith(cmd: Command, rawArgs: readonly string[]): Promise<void> {
	const args = parseArgs(rawArgs, cmd.args ?? {}, cmd.maxPositionals);
	await cmd.run?.({ args });
}

/** The same object, as citty's renderUsage wants it. */
export function asCitty(cmd: Command): CommandDef {
	return cmd as unknown as CommandDef;
}
