// One strict pass over a command's arguments (the global options are already out): declared flags
// in every spelling (`--name v`, `--name=v`, `-n v`), repeatable ones collected in order, a
// boolean that takes no value (`--keep-netns=maybe` is an error, not true), unknown flags and
// surplus arguments refused. Pure: arguments and their declaration in, values out.
import { UsageError } from "../errors";

export interface ArgDef {
	type: "positional" | "string" | "boolean";
	description?: string;
	required?: boolean;
	alias?: string;
	/** A string flag that may be given several times (`--network a --network b`). */
	repeat?: boolean;
	valueHint?: string;
}
export type ArgsDef = Record<string, ArgDef>;

/** The parsed values: flags by their declared name, named positionals, and `_` (all positionals). */
export type ParsedArgs<T extends ArgsDef> = { _: string[] } & {
	[K in keyof T]: T[K] extends { type: "boolean" }
		? boolean
		: T[K] extends { repeat: true }
			? string[]
			: T[K] extends { required: true }
				? string
				: string | undefined;
};

/** Parses `rawArgs` against `def`; `maxPositionals` defaults to the positionals declared. */
export function parseArgs<T extends ArgsDef>(
	rawArgs: readonly string[],
	def: T,
	maxPositionals?: number,
): ParsedArgs<T> {
	const byName = new Map<string, [string, ArgDef]>();
	const positionals: string[] = [];
	const names = Object.entries(def);
	for (const [name, d] of names) {
		if (d.type === "positional") positionals.push(name);
		else {
			byName.set(name, [name, d]);
			if (d.alias) byName.set(d.alias, [name, d]);
		}
	}
	const out: Record<string, unknown> = {};
	for (const [name, d] of names) {
		if (d.type === "boolean") out[name] = false;
		else if (d.repeat) out[name] = [];
	}
	const rest: string[] = [];
	for (let i = 0; i < rawArgs.length; i++) {
		const arg = rawArgs[i] as string;
		if (arg === "--") {
			rest.push(...rawArgs.slice(i + 1));
			break;
		}
		if (!arg.startsWith("-") || arg === "-") {
			rest.push(arg);
			continue;
		}
		const long = arg.startsWith("--");
		const body = arg.slice(long ? 2 : 1);
		const eq = body.indexOf("=");
		let key = eq < 0 ? body : body.slice(0, eq);
		let inline = eq < 0 ? undefined : body.slice(eq + 1);
		let negated = false;
		if (
			!byName.has(key) &&
			long &&
			key.startsWith("no-") &&
			byName.get(key.slice(3))?.[1].type === "boolean"
		) {
			key = key.slice(3);
			negated = true;
		}
		// -p8080:80 : a short string flag with its value attached
		if (!long && !byName.has(key) && byName.has(key[0] ?? "") && inline === undefined) {
			inline = key.slice(1);
			key = key[0] as string;
		}
		const found = byName.get(key);
		if (!found)
			throw new UsageError(`unknown flag: ${eq < 0 ? arg : arg.slice(0, arg.indexOf("="))}`);
		const [name, d] = found;
		if (d.type === "boolean") {
			if (inline !== undefined) throw new UsageError(`flag ${arg.split("=")[0]} takes no value`);
			out[name] = !negated;
			continue;
		}
		let value = inline;
		if (value === undefined) {
			value = rawArgs[i + 1];
			if (value === undefined) throw new UsageError(`flag needs an argument: ${arg}`);
			i++;
		}
		if (d.repeat) (out[name] as string[]).push(value);
		else out[name] = value;
	}
	const limit = maxPositionals ?? positionals.length;
	if (rest.length > limit) throw new UsageError(`too many arguments (expected at most ${limit})`);
	for (const [i, name] of positionals.entries()) {
		const d = def[name] as ArgDef;
		if (rest[i] === undefined && d.required)
			throw new UsageError(`missing argument: ${name.toUpperCase()}`);
		out[name] = rest[i];
	}
	out._ = rest;
	return out as ParsedArgs<T>;
}
