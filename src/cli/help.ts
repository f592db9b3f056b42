// Finds the command a help request is about (`ctrnet netns create --help`).
import type { CommandDef } from "citty";

type Resolvable<T> = T | Promise<T> | (() => T) | (() => Promise<T>);

async function resolve<T>(v: Resolvable<T>): Promise<T> {
	return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

export async function resolveSubcommand(
	cmd: CommandDef,
	args: string[],
	parent?: CommandDef,
): Promise<[CommandDef, CommandDef | undefined]> {
	const subs = cmd.subCommands ? await resolve(cmd.subCommands) : undefined;
	const name = args.find((a) => !a.startsWith("-"));
	const sub = name && subs ? subs[name] : undefined;
	if (!sub || !name) return [cmd, parent];
	return resolveSubcommand(await resolve(sub), args.slice(args.indexOf(name) + 1), cmd);
}
