// Logging facade over consola. Only `consola/core` is used, with a one-line reporter: consola's
// default entry imports node:tty, and a node builtin is hoisted into the binary's start-up, which
// every run would pay (DESIGN 1a). Warnings are plain `Warning: …` lines (DESIGN 4).
import type { ConsolaInstance, LogObject } from "consola/core";
import { writeErr } from "./io";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let level: LogLevel = "warn";
let consola: ConsolaInstance | undefined;

const rank = (l: LogLevel) => LOG_LEVELS.indexOf(l);

function report(obj: LogObject): void {
	const text = obj.args.map((a) => (typeof a === "string" ? a : Bun.inspect(a))).join(" ");
	writeErr(`${obj.type}: ${text}\n`);
}

/** Sets the level; loads consola only when debug or info lines may be printed. */
export async function initLogging(l: LogLevel): Promise<void> {
	level = l;
	if (rank(l) <= rank("info") && !consola) {
		const { createConsola } = await import("consola/core");
		consola = createConsola({ level: l === "debug" ? 4 : 3, reporters: [{ log: report }] });
	}
}

export function logLevel(): LogLevel {
	return level;
}

export const log = {
	debug(msg: string, ...rest: unknown[]): void {
		if (rank(level) <= 0) consola?.debug(msg, ...rest);
	},
	info(msg: string, ...rest: unknown[]): void {
		if (rank(level) <= 1) consola?.info(msg, ...rest);
	},
	/** One line `Warning: …` on stderr. */
	warn(msg: string): void {
		if (rank(level) <= 2) writeErr(`Warning: ${msg}\n`);
	},
};
