// Strictness citty does not have: unknown flags and surplus arguments are errors (exit 125).
import type { ArgsDef } from "citty";
import { UsageError } from "../errors";

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Throws UsageError for the first flag `argsDef` does not declare, or for too many positionals. */
export function rejectUnknownFlags(
	rawArgs: readonly string[],
	argsDef: ArgsDef,
	maxPositionals?: number,
): void {
	const known = new Map<string, string | undefined>();
	let positionals = 0;
	for (const [name, def] of Object.entries(argsDef)) {
		if (def.type === "positional") {
			positionals++;
			continue;
		}
		const aliases = "alias" in def && def.alias ? [def.alias].flat() : [];
		for (const n of [name, camel(name), ...aliases]) known.set(n, def.type);
		if (def.type === "boolean") known.set(`no-${name}`, "boolean");
	}
	const limit = maxPositionals ?? positionals;
	let seen = 0;
	for (let i = 0; i < rawArgs.length; i++) {
		const arg = rawArgs[i] as string;
		if (arg === "--") {
			seen += rawArgs.length - i - 1;
			break;
		}
		if (arg.startsWith("-") && arg !== "-") {
			const [name = "", value] = arg.replace(/^--?/, "").split(/=(.*)/s);
			if (!known.has(name)) throw new UsageError(`unknown flag: ${arg.split("=")[0]}`);
			const type = known.get(name);
			if ((type === "string" || type === "enum") && value === undefined) {
				if (rawArgs[i + 1] === undefined) throw new UsageError(`flag needs an argument: ${arg}`);
				i++;
			}
			continue;
		}
		seen++;
	}
	if (seen > limit) throw new UsageError(`too many arguments (expected at most ${limit})`);
}

/**
 * Every value of a repeatable string flag, in order (`--network a --network=b -p 1`); citty
 * keeps only the last. `names` are long names, `short` single-letter aliases.
 */
export function repeatedFlag(
	rawArgs: readonly string[],
	names: string[],
	short: string[] = [],
): string[] {
	const spellings = [...names.map((n) => `--${n}`), ...short.map((s) => `-${s}`)];
	const out: string[] = [];
	for (let i = 0; i < rawArgs.length; i++) {
		const arg = rawArgs[i] as string;
		if (arg === "--") break;
		const eq = arg.indexOf("=");
		const flag = eq > 0 ? arg.slice(0, eq) : arg;
		if (!spellings.includes(flag)) continue;
		if (eq > 0) out.push(arg.slice(eq + 1));
		else if (i + 1 < rawArgs.length) out.push(rawArgs[++i] as string);
	}
	return out;
}

/** The network flags `setup` and `hook inject` share, as the raw strings RawSetupSchema wants. */
export function networkFlags(
	args: { name?: string; ip?: string; mac?: string },
	rawArgs: readonly string[],
): {
	name?: string;
	networks: string[];
	ip?: string;
	mac?: string;
	publish: string[];
	aliases: string[];
} {
	return {
		name: args.name,
		networks: repeatedFlag(rawArgs, ["network"]),
		ip: args.ip,
		mac: args.mac,
		publish: repeatedFlag(rawArgs, ["publish"], ["p"]),
		aliases: repeatedFlag(rawArgs, ["alias"]),
	};
}
