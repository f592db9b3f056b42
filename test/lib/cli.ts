// Running the built binary from tests, and the rule for missing dependencies: in CI (CI=true) a
// missing tool or privilege fails the test run loudly; on a developer's machine it is reported.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

// CTRNET_TEST_BIN lets a developer test a copy while dist/ctrnet is being rebuilt.
export const BIN = process.env.CTRNET_TEST_BIN ?? resolve(import.meta.dir, "../../dist/ctrnet");

export interface RunResult {
	code: number;
	stdout: string;
	stderr: string;
}

export async function ctrnet(
	args: string[],
	opts: { env?: Record<string, string>; stdin?: string; argv0?: string; exe?: string } = {},
): Promise<RunResult> {
	const proc = Bun.spawn([opts.exe ?? BIN, ...args], {
		env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", ...opts.env },
		stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
		stdout: "pipe",
		stderr: "pipe",
		argv0: opts.argv0,
	});
	return outputOf(proc);
}

/** Exit code and output of a process spawned with stdout and stderr piped. */
export async function outputOf(p: {
	stdout: ReadableStream<Uint8Array>;
	stderr: ReadableStream<Uint8Array>;
	exited: Promise<number>;
}): Promise<RunResult> {
	const [stdout, stderr, code] = await Promise.all([
		new Response(p.stdout).text(),
		new Response(p.stderr).text(),
		p.exited,
	]);
	return { code, stdout, stderr };
}

/**
 * A container fixture's ctrnet that records the IDs set up through it, and `cleanup`, which tears
 * them all down (also after a failed assertion) and then runs `end`.
 */
export function trackSetups<F extends (args: string[], ...rest: never[]) => Promise<unknown>>(
	ctrnet: F,
	end: () => void,
): { ctrnet: F; cleanup(): Promise<void> } {
	const ids = new Set<string>();
	const tracked = ((args: string[], ...rest: never[]) => {
		if (args[0] === "setup" && args[1]) ids.add(args[1]);
		return ctrnet(args, ...rest);
	}) as F;
	return {
		ctrnet: tracked,
		async cleanup() {
			if (ids.size > 0) await ctrnet(["teardown", ...ids]);
			end();
		},
	};
}

/** Asserts the binary was built; every integration test file calls this first. */
export function requireBinary(): void {
	if (!existsSync(BIN)) throw new Error(`${BIN} missing: run scripts/build first`);
}

/**
 * True when every named tool is on PATH (and we are root when `root` is set). In CI a missing one
 * throws, so a dependency problem can never pass as a skipped test.
 */
export function have(tools: string[], root = false): boolean {
	const path = `${process.env.PATH ?? ""}:/usr/sbin:/sbin`;
	const missing = tools.filter((t) => !Bun.which(t, { PATH: path }));
	if (root && process.geteuid?.() !== 0) missing.push("root privileges");
	if (missing.length === 0) return true;
	const msg = `missing dependencies: ${missing.join(", ")}`;
	if (process.env.CI === "true" || process.env.CI === "1") throw new Error(msg);
	console.warn(`skipping: ${msg}`);
	return false;
}
