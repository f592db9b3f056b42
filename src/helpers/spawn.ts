// Starting a long-lived helper process (slirp4netns, rootlessport, aardvark-dns, pasta) the way
// podman does; every launcher in this folder goes through here:
// - its own session (detached → setsid), cwd "/", no inherited stdout/stderr: a caller's
//   `$(ctrnet setup …)` must not hang on a pipe the helper keeps open (bun-platform §3);
// - stdout/stderr go to files created new (never following or truncating what someone planted)
//   and unlinked right after opening; they are read back only to explain a failure, and vanish
//   with the last fd;
// - fd 4 = write end of a real pipe (pipe2; a Bun "pipe" entry would be a socketpair): the
//   helper writes "1" there when ready (podman's waitForSync);
// - fd 3 = read end of an exit pipe when the caller holds the write end (podman's conmon model),
//   absent otherwise: ctrnet's CLI exits right after setup, so nothing could hold it, and a
//   closed write end would stop the helper at once. Such helpers run until stopHelper().
import { closeSync, readSync, unlinkSync } from "node:fs";
import { kill, O_CLOEXEC, POLLIN, pipe2, pollOne, SIGKILL } from "../../ffi/libc";
import { createExclusive } from "../files/atomic";
import { type ProcessIdentity, processStartTime } from "../process/identity";

export interface HelperSpec {
	/** Program name used in messages: "slirp4netns", "rootlessport". */
	name: string;
	cmd: string[];
	argv0?: string;
	stdin?: Uint8Array;
	/** The log file (stderr, and stdout unless `separateStdout`); unlinked right after opening. */
	logPath: string;
	/** Capture stdout in its own unlinked file (rootlessport prints its error line there). */
	separateStdout?: boolean;
	/** Create the exit pipe and give its write end to the caller (fd 3 in the helper). */
	holdExit?: boolean;
	/** Give up (and kill the helper) when it is alive but not ready after this long. */
	timeoutMs: number;
	env?: Record<string, string | undefined>;
	/** Runs the spawn; lets a caller make the child in another namespace (see mountns.ts). */
	around?: <T>(spawn: () => T) => T;
}

export interface StartedHelper extends ProcessIdentity {
	/** Write end of the exit pipe (close it to stop the helper); null without holdExit. */
	exitWriteFd: number | null;
}

/** A helper that failed to start; the message is what podman would show. */
export class HelperError extends Error {
	override name = "HelperError";
}

/** A new file (see the header) opened for reading and writing and already unlinked. */
export function openUnlinked(path: string): number {
	const fd = createExclusive(path, 0o600, true);
	unlinkSync(path);
	return fd;
}

/** Everything written to `fd` so far, read from offset 0 (the fd's own offset is left alone). */
export function readAll(fd: number): string {
	const chunks: Buffer[] = [];
	const buf = Buffer.alloc(65536);
	let pos = 0;
	for (;;) {
		const n = readSync(fd, buf, 0, buf.length, pos);
		if (n <= 0) break;
		chunks.push(Buffer.from(buf.subarray(0, n)));
		pos += n;
	}
	return Buffer.concat(chunks).toString("utf8");
}

type Outcome = { kind: "ready" } | { kind: "eof" } | { kind: "exit" } | { kind: "timeout" };

/**
 * podman's waitForSync: the first bytes on the ready pipe mean ready, EOF or the helper's exit
 * mean failure, and only a helper that stays alive and silent for `timeoutMs` times out. The
 * pipe is polled from the JS thread rather than read with fs.read: a read queued on Bun's thread
 * pool outlives the fd it was given, and once that fd number was reused it hung an unrelated
 * Bun.spawnSync of ours for good (seen in the tests, about 1 run in 40).
 */
async function waitReady(
	fd: number,
	proc: { exitCode: number | null; signalCode: unknown },
	timeoutMs: number,
): Promise<Outcome> {
	const end = Date.now() + timeoutMs;
	const buf = Buffer.alloc(16);
	for (;;) {
		if (pollOne(fd, POLLIN, 0))
			return readSync(fd, buf, 0, buf.length, null) > 0 ? { kind: "ready" } : { kind: "eof" };
		if (proc.exitCode !== null || proc.signalCode !== null) {
			// It may have written "1" just before exiting: look once more.
			return pollOne(fd, POLLIN, 0) && readSync(fd, buf, 0, buf.length, null) > 0
				? { kind: "ready" }
				: { kind: "exit" };
		}
		if (Date.now() > end) return { kind: "timeout" };
		await Bun.sleep(2);
	}
}

export async function spawnHelper(spec: HelperSpec): Promise<StartedHelper> {
	const logFd = openUnlinked(spec.logPath);
	const outFd = spec.separateStdout ? openUnlinked(`${spec.logPath}.out`) : logFd;
	const [readyR, readyW] = pipe2(O_CLOEXEC);
	const [exitR, exitW] = spec.holdExit ? pipe2(O_CLOEXEC) : [null, null];
	const spawn = () =>
		Bun.spawn(spec.cmd, {
			argv0: spec.argv0,
			cwd: "/",
			env: spec.env,
			detached: true,
			stdio: [spec.stdin ?? "ignore", outFd, logFd, exitR, readyW],
		});
	let proc: ReturnType<typeof spawn>;
	try {
		proc = spec.around ? spec.around(spawn) : spawn();
	} catch (err) {
		for (const fd of [logFd, outFd, readyR, readyW, exitR, exitW]) closeQuietly(fd);
		throw new HelperError(`${spec.name}: ${err instanceof Error ? err.message : String(err)}`);
	} finally {
		closeQuietly(readyW);
		closeQuietly(exitR);
	}
	const outcome = await waitReady(readyR, proc, spec.timeoutMs);
	try {
		if (outcome.kind === "ready") {
			proc.unref();
			return { pid: proc.pid, startTime: processStartTime(proc.pid) ?? "", exitWriteFd: exitW };
		}
		// Not ready: make sure nothing is left running, then explain with what it printed.
		if (proc.exitCode === null && proc.signalCode === null) kill(proc.pid, SIGKILL);
		await proc.exited;
		closeQuietly(exitW);
		throw failure(spec, proc, outcome, readAll(outFd), readAll(logFd));
	} finally {
		closeQuietly(readyR);
		closeQuietly(logFd);
		if (outFd !== logFd) closeQuietly(outFd);
	}
}

function failure(
	spec: HelperSpec,
	proc: { signalCode: NodeJS.Signals | number | null },
	outcome: Outcome,
	stdout: string,
	log: string,
): HelperError {
	if (outcome.kind === "timeout") {
		return new HelperError(
			`${spec.name} did not become ready within ${spec.timeoutMs} ms: ${JSON.stringify(log)}`,
		);
	}
	// podman: `rootlessport <stdout>` when the helper explained itself on stdout.
	if (spec.separateStdout && stdout.trim()) {
		return new HelperError(`${spec.name} ${stdout.trimEnd()}`);
	}
	if (proc.signalCode && proc.signalCode !== "SIGKILL") {
		return new HelperError(`${spec.name} killed by signal`);
	}
	return new HelperError(`${spec.name} failed: ${JSON.stringify(log)}`);
}

function closeQuietly(fd: number | null): void {
	if (fd === null) return;
	try {
		closeSync(fd);
	} catch {
		// already closed
	}
}
