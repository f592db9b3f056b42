// Process identity that survives pid reuse: pid + start time (field 22 of /proc/PID/stat).
import { readFileSync } from "node:fs";

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

/** True while the process that had this start time is still running. */
export function isSameProcessAlive(pid: number, startTime: string): boolean {
	return processStartTime(pid) === startTime;
}

export function self(): { pid: number; startTime: string } {
	return { pid: process.pid, startTime: processStartTime(process.pid) ?? "" };
}
