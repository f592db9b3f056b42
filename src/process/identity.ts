// Process identity that survives pid reuse: pid + start time (field 22 of /proc/PID/stat). The one
// answer to "is that process still the one we knew?" — for ctrnet's own claims on a container,
// for helper processes, and for the container processes whose namespaces ctrnet pinned.
import { readFileSync } from "node:fs";
import type { ProcessIdentity } from "./schema";

export type { ProcessIdentity };

export function processStartTime(pid: number): string | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		// The command name (field 2) may contain spaces and parentheses: split after the last ')'.
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		const state = fields[0];
		if (state === "Z" || state === "X") return undefined; // a zombie is gone for our purposes
		return fields[19];
	} catch {
		return undefined;
	}
}

/** The identity of a running process, or undefined when there is none (or it is a zombie). */
export function identify(pid: number): ProcessIdentity | undefined {
	const startTime = processStartTime(pid);
	return startTime === undefined ? undefined : { pid, startTime };
}

/** True while the process that had this start time is still running. */
export function isSameProcessAlive(pid: number, startTime: string): boolean {
	return processStartTime(pid) === startTime;
}

export function isAlive(p: ProcessIdentity): boolean {
	return isSameProcessAlive(p.pid, p.startTime);
}

export function self(): ProcessIdentity {
	return { pid: process.pid, startTime: processStartTime(process.pid) ?? "" };
}
