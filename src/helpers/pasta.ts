// Starting pasta for a container as podman does (containers/common's pasta.Setup): pasta
// configures the namespace, binds the forwarded ports, then forks to the background and the
// process we started exits — 0 when ready, non-zero with its reason on stderr. Its output goes to
// a file created new and unlinked at once (see spawn.ts), read back only to explain a failure.
// The background process writes nothing there (pasta points its stdio at /dev/null): its pid
// comes from --pid, and its identity is recorded so that teardown and gc stop that process.
import { closeSync, readFileSync, rmSync } from "node:fs";
import { kill, SIGKILL } from "../../ffi/libc";
import { identify } from "../process/identity";
import { HelperError, openUnlinked, readAll, type StartedHelper } from "./spawn";
import { stopProcess } from "./stop";

export interface PastaStart {
	binary: string;
	/** The full argument list (buildPastaArgs), --pid pidFile among them. */
	args: string[];
	pidFile: string;
	/** The (unlinked) log file. */
	logPath: string;
	/** Give up when pasta neither succeeds nor fails within this long (default 30 s). */
	timeoutMs?: number;
}

export interface StartedPasta extends StartedHelper {
	/** What pasta printed although it started (podman logs it as "pasta logged warnings"). */
	warnings: string;
}

/**
 * pasta's output as one line: without the "Failed to send … to syslog" lines it writes where no
 * syslog listens, and without the usage text it prints after "unrecognized option".
 */
export function pastaMessage(out: string): string {
	const lines: string[] = [];
	for (const line of out.split("\n")) {
		if (/^Usage: /.test(line)) break;
		if (/^Failed to send \d+ bytes to syslog/.test(line) || !line.trim()) continue;
		lines.push(line.trim());
	}
	return lines.join("; ");
}

function readPid(path: string): number | undefined {
	try {
		const pid = Number(readFileSync(path, "utf8").trim());
		return Number.isInteger(pid) && pid > 0 ? pid : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Runs pasta and waits for it to go to the background. Throws HelperError with pasta's own
 * message (`pasta failed with exit code 1: …`); nothing of it is left running then.
 */
export async function startPasta(s: PastaStart): Promise<StartedPasta> {
	const timeoutMs = s.timeoutMs ?? 30_000;
	rmSync(s.pidFile, { force: true }); // a stale pid must never be taken for this pasta's
	const logFd = openUnlinked(s.logPath);
	try {
		let proc: ReturnType<typeof Bun.spawn>;
		try {
			proc = Bun.spawn([s.binary, ...s.args], {
				cwd: "/",
				detached: true,
				stdio: ["ignore", logFd, logFd],
			});
		} catch (err) {
			throw new HelperError(`failed to start pasta: ${(err as Error).message}`);
		}
		const code = await Promise.race([proc.exited, Bun.sleep(timeoutMs).then(() => null)]);
		const pid = readPid(s.pidFile);
		rmSync(s.pidFile, { force: true });
		const background = pid === undefined ? undefined : identify(pid);
		if (code === 0 && background) {
			return { ...background, exitWriteFd: null, warnings: pastaMessage(readAll(logFd)) };
		}
		// Not started: whatever runs of it goes, then pasta's own words explain why.
		if (code === null) kill(proc.pid, SIGKILL);
		if (background) await stopProcess(background, 500);
		await proc.exited;
		const said = pastaMessage(readAll(logFd));
		if (code === null) {
			throw new HelperError(`pasta did not start within ${timeoutMs} ms: ${said}`);
		}
		if (code !== 0) throw new HelperError(`pasta failed with exit code ${code}: ${said}`);
		throw new HelperError(`pasta exited right after starting${said ? `: ${said}` : ""}`);
	} finally {
		closeSync(logFd);
	}
}
