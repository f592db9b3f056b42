import { writeOutShort } from "../io";
import { buildCommit, VERSION } from "../version";
import { command } from "./command";
import { outputFormat } from "./context";

/** Prints the version. Plain function so that run.ts can call it without loading citty. */
export async function printVersion(): Promise<void> {
	const info = { version: VERSION, bun: Bun.version, commit: buildCommit() ?? null };
	if ((await outputFormat()) === "json") return writeOutShort(`${JSON.stringify(info, null, 2)}\n`);
	return writeOutShort(
		`ctrnet version ${info.version}\nbun version    ${info.bun}\ncommit         ${info.commit ?? "unknown"}\n`,
	);
}

export default command({
	meta: { name: "version", description: "Print ctrnet's version" },
	run: printVersion,
});
