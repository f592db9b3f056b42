// The mark a failed setup hook leaves for the poststop that follows. runc runs poststop hooks
// even after a createRuntime hook failed (the container existed for a moment), with the same id
// and bundle and no pid. Without this mark that poststop could tear down a container another
// setup owns under the same ID (a CLI `ctrnet setup`, or the same ID in another runc --root).
// Kept under the run root (tmpfs): runtime containers do not outlive a reboot either.
import { mkdirSync, readFileSync, unlinkSync } from "node:fs";
import * as z from "zod/mini";
import { fileNameFor, writeFileAtomic } from "../files/atomic";
import { parseJson } from "../json";

export const FailedMarkSchema = z.object({
	id: z.string(),
	bundle: z.string(),
	pid: z.int(),
	error: z.string(),
	/** The failed setup's own record is still there (its rollback failed): poststop may retry. */
	leftover: z.boolean(),
	time: z.string(),
});
export type FailedMark = z.infer<typeof FailedMarkSchema>;

const dir = (runRoot: string) => `${runRoot}/hook-failed`;
/** `id` was validated (NAME_PATTERN) before it names a file. */
const file = (runRoot: string, id: string) => `${dir(runRoot)}/${fileNameFor(`${id}.json`)}`;

export function markFailed(runRoot: string, mark: FailedMark): void {
	mkdirSync(dir(runRoot), { recursive: true, mode: 0o700 });
	writeFileAtomic(file(runRoot, mark.id), JSON.stringify(mark), { mode: 0o600 });
}

/** The mark for this id and bundle, removed as it is read; undefined when there is none. */
export function takeFailed(runRoot: string, id: string, bundle: string): FailedMark | undefined {
	let text: string;
	try {
		text = readFileSync(file(runRoot, id), "utf8");
	} catch {
		return undefined;
	}
	const r = FailedMarkSchema.safeParse(parseJson(text));
	// A mark of another bundle belongs to another runtime container: leave it for that one.
	if (r.success && r.data.bundle !== bundle) return undefined;
	// An unreadable mark (a torn write cannot happen: rename) still means "a setup failed here".
	clearFailed(runRoot, id);
	return r.success
		? r.data
		: { id, bundle, pid: 0, error: "unreadable mark", leftover: false, time: "" };
}

/** A new setup for `id` drops a stale mark (a failed setup whose poststop never came). */
export function clearFailed(runRoot: string, id: string): void {
	try {
		unlinkSync(file(runRoot, id));
	} catch {}
}
