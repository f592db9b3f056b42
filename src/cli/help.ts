// Finding the command an argument list names (`ctrnet netns create …`): subcommand names are
// consumed from the front; what is left belongs to the command.
import { UsageError } from "../errors";
import type { Command } from "./command";

async function load(v: unknown): Promise<Command> {
	return (typeof v === "function" ? await (v as () => Promise<Command>)() : v) as Command;
}

export interface Resolved {
	cmd: Command;
	parent: Command | undefined;
	/** The command's own arguments. */
	rest: string[];
	/** The names walked, for messages ("ctrnet netns"). */
	path: string[];
}

/** Walks subcommands; `lenient` (help) stops at an unknown name instead of refusing it. */
export async function resolveCommand(
	root: Command,
	args: readonly string[],
	lenient = false,
): Promise<Resolved> {
	let cmd = root;
	let parent: Command | undefined;
	const path = [root.meta.name];
	let rest = [...args];
	while (cmd.subCommands) {
		const name = rest[0];
		if (name === undefined || name.startsWith("-")) break;
		const sub = cmd.subCommands[name];
		if (!sub) {
			if (lenient) break;
			throw new UsageError(`unknown command ${JSON.stringify(name)} for "${path.join(" ")}"`);
		}
		parent = cmd;
		cmd = await load(sub);
		path.push(name);
		rest = rest.slice(1);
	}
	return { cmd, parent, rest, path };
}
