import { gc } from "../container/gc";
import { MultiError } from "../errors";
import { writeOut } from "../io";
import { command } from "./command";
import { outputFormat } from "./context";
import { printJson } from "./output";
import { runtime } from "./runtime";

export default command({
	meta: { name: "gc", description: "Reclaim what dead containers left behind" },
	async run() {
		const report = await gc(await runtime());
		if ((await outputFormat()) === "json") printJson(report);
		else {
			for (const r of report.reclaimed) writeOut(`reclaimed ${r.id}: ${r.reason}\n`);
			for (const r of report.repaired) writeOut(`repaired ${r.id}: ${r.reason}\n`);
		}
		if (report.failed.length > 0)
			throw new MultiError(report.failed.map((f) => new Error(`${f.id}: ${f.error}`)));
	},
});
