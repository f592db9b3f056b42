// stdout/stderr writes. process.stdout is expensive on first use in a compiled binary (it builds a
// node stream: more than the whole rest of `ctrnet version`, see scripts/bench/startup.sh); a
// plain write(2) costs nothing. node:fs, which makes that write, is loaded on the first write:
// loading it is a large part of `ctrnet version`, which writes with writeOutShort instead.
type Fs = typeof import("node:fs");
let fs: Fs | undefined;

function writeAll(fd: number, text: string): void {
	fs ??= require("node:fs") as Fs;
	const buf = Buffer.from(text);
	let off = 0;
	try {
		while (off < buf.length) off += fs.writeSync(fd, buf, off);
	} catch (e) {
		// The reader went away (`ctrnet … | head -1`). Nobody is left to tell, and a teardown must
		// not stop half-way because its log line could not be written.
		if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
	}
}

export const writeOut = (text: string) => writeAll(1, text);
export const writeErr = (text: string) => writeAll(2, text);

/** A short text on stdout without node:fs (console.write: no formatting, no newline added). */
export async function writeOutShort(text: string): Promise<void> {
	try {
		await console.write(text);
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
	}
}
