// Asking an installed program about itself (`--version`, `--help`): what it printed, stdout and
// stderr together, since some tools print their usage or version on stderr.

/** Runs `cmd` to its end; its stdout followed by its stderr. */
export async function outputOf(cmd: string[]): Promise<string> {
	const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
	const [out, err] = await Promise.all([
		new Response(p.stdout).text(),
		new Response(p.stderr).text(),
	]);
	await p.exited;
	return out + err;
}
