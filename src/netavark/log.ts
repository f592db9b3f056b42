// netavark logs through Rust's env_logger: RUST_LOG picks the level (podman sets
// `RUST_LOG=netavark=<its own level>`), lines go to stderr as `[LEVEL target] message`. The
// front end logs the same way, under targets that start with `netavark`, so podman's
// --log-level works on it unchanged. Level parsing is pure.
import { writeErr } from "../io";

export const LEVELS = ["off", "error", "warn", "info", "debug", "trace"] as const;
export type Level = (typeof LEVELS)[number];

const rank = (l: Level) => LEVELS.indexOf(l);

function levelOf(text: string): Level | undefined {
	const t = text.trim().toLowerCase();
	if (t === "warning") return "warn";
	return (LEVELS as readonly string[]).includes(t) ? (t as Level) : undefined;
}

/**
 * The level RUST_LOG gives `target` (env_logger's rules, without its regex filter): directives
 * are comma-separated, each `LEVEL`, `MODULE` (= trace) or `MODULE=LEVEL`; the longest module
 * prefix of the target wins, a bare level applies to everything else. Unset or empty: error.
 */
export function rustLogLevel(rustLog: string | undefined, target: string): Level {
	let global: Level | undefined;
	let best: { len: number; level: Level } | undefined;
	for (const raw of (rustLog ?? "").split("/")[0]?.split(",") ?? []) {
		const d = raw.trim();
		if (d === "") continue;
		const eq = d.indexOf("=");
		const name = eq < 0 ? d : d.slice(0, eq);
		const level = eq < 0 ? levelOf(d) : levelOf(d.slice(eq + 1));
		if (eq < 0 && level) {
			global = level;
			continue;
		}
		const lvl = eq < 0 ? "trace" : level;
		if (!lvl) continue;
		const matches = target === name || target.startsWith(`${name}::`);
		if (matches && (!best || name.length >= best.len)) best = { len: name.length, level: lvl };
	}
	return best?.level ?? global ?? "error";
}

export interface Logger {
	enabled(level: Exclude<Level, "off">): boolean;
	error(message: string): void;
	warn(message: string): void;
	info(message: string): void;
	debug(message: string): void;
}

/** env_logger's line: the level padded to five, then the target, without a timestamp. */
export function formatLine(level: Exclude<Level, "off">, target: string, message: string): string {
	return `[${level.toUpperCase().padEnd(5)} ${target}] ${message}\n`;
}

export function makeLogger(rustLog: string | undefined, target = "netavark::ctrnet"): Logger {
	const max = rank(rustLogLevel(rustLog, target));
	const enabled = (l: Exclude<Level, "off">) => rank(l) <= max;
	const line = (l: Exclude<Level, "off">) => (m: string) => {
		if (enabled(l)) writeErr(formatLine(l, target, m));
	};
	return {
		enabled,
		error: line("error"),
		warn: line("warn"),
		info: line("info"),
		debug: line("debug"),
	};
}
