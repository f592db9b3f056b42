// Optional timing of the data plane's steps (scripts/bench/native.ts, and a caller's trace
// output). Without a sink installed a step is a plain call.

type Sink = (step: string, ms: number) => void;

let sink: Sink | undefined;

/** Installs (or, with undefined, removes) the receiver of step timings. */
export function setNativeTrace(fn: Sink | undefined): void {
	sink = fn;
}

export function step<T>(name: string, fn: () => T): T {
	if (!sink) return fn();
	const t0 = performance.now();
	try {
		return fn();
	} finally {
		sink(name, performance.now() - t0);
	}
}
