// The forwarder's log: its stderr, an unlinked file that podman (or ctrnet) opened and nobody
// reads unless the start fails. Whatever the forwarder is sent, the log must not grow without
// bound: each kind of repeated message is written at most `perWindow` times a window (the rest
// are counted, then summarised in one line), and the whole log holds at most `budget` bytes.
// Pure apart from the sink it is given.

export interface LogLimits {
	windowMs: number;
	perWindow: number;
	budget: number;
}

export const LOG_LIMITS: LogLimits = { windowMs: 60_000, perWindow: 5, budget: 256 * 1024 };

/**
 * `line` is written as `rootlessport: <line>`. With a `kind` (e.g. "udp 5353 send"), it is one of
 * a kind that can repeat and is rate-limited; without, it is a one-off (start-up, stop).
 */
export type Log = (line: string, kind?: string) => void;

const LAST = "rootlessport: log limit reached; later messages are dropped\n";

export function boundedLog(
	sink: (text: string) => void,
	limits: LogLimits = LOG_LIMITS,
	now: () => number = Date.now,
): { log: Log; flush(): void } {
	const kinds = new Map<string, { start: number; written: number; dropped: number }>();
	let used = 0;
	let full = false;

	const emit = (text: string) => {
		if (full) return;
		if (used + text.length + LAST.length > limits.budget) {
			full = true;
			sink(LAST);
			return;
		}
		used += text.length;
		sink(text);
	};
	const summary = (kind: string, dropped: number) =>
		emit(`rootlessport: ${dropped} more "${kind}" message(s) not logged\n`);

	const log: Log = (line, kind) => {
		if (kind === undefined) return emit(`rootlessport: ${line}\n`);
		const t = now();
		let k = kinds.get(kind);
		if (!k || t - k.start >= limits.windowMs) {
			if (k?.dropped) summary(kind, k.dropped);
			k = { start: t, written: 0, dropped: 0 };
			kinds.set(kind, k);
		}
		if (k.written < limits.perWindow) {
			k.written++;
			emit(`rootlessport: ${line}\n`);
		} else {
			k.dropped++;
		}
	};

	/** Writes the pending summaries (call it now and then, and before stopping). */
	const flush = () => {
		for (const [kind, k] of kinds) {
			if (k.dropped) summary(kind, k.dropped);
			k.dropped = 0;
		}
	};
	return { log, flush };
}
