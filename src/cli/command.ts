// citty's defineCommand with ctrnet's rules: flags are checked strictly before the command runs.
// A command is a plain object (defineCommand is the identity), so defining one loads no citty code.
import type { ArgsDef, CommandContext, CommandDef } from "citty";
import { rejectUnknownFlags } from "./flags";

interface Def<T extends ArgsDef> {
	meta: { name: string; description: string; hidden?: boolean };
	args?: T;
	/** For variadic commands (`rm NAME...`): the most positionals accepted. Default: those declared. */
	maxPositionals?: number;
	subCommands?: CommandDef["subCommands"];
	run?: (ctx: CommandContext<T>) => unknown | Promise<unknown>;
}

export function command<const T extends ArgsDef = ArgsDef>(def: Def<T>): CommandDef<T> {
	const { run, maxPositionals, ...rest } = def;
	if (!run) return rest as CommandDef<T>;
	return {
		...rest,
		run(ctx) {
			rejectUnknownFlags(ctx.rawArgs, def.args ?? {}, maxPositionals);
			return run(ctx);
		},
	} as CommandDef<T>;
}
