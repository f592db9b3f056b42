import { command } from "./command";
import { outputFormat } from "./context";
import { printJson, printTable } from "./output";
import { runtime } from "./runtime";

export default command({
	meta: { name: "events", description: "History of setup, teardown, connect, disconnect, reload" },
	async run() {
		const events = (await runtime()).store.events();
		if ((await outputFormat()) === "json") return printJson(events);
		printTable(
			["TIME", "ID", "TYPE", "NETWORK"],
			events.map((e) => [e.time, e.id, e.type, e.network ?? ""]),
		);
	},
});
