import { validateId } from "../container/request";
import { containerStats } from "../container/stats";
import { command } from "./command";
import { outputFormat } from "./context";
import { printJson, printTable } from "./output";
import { runtime } from "./runtime";

export default command({
	meta: { name: "stats", description: "Interface counters of a container, via netlink" },
	args: { id: { type: "positional", required: true, description: "container ID" } },
	async run({ args }) {
		const rt = await runtime();
		const rows = containerStats(rt.store.mustGet(validateId(args.id)));
		if ((await outputFormat()) === "json") return printJson(rows);
		printTable(
			[
				"INTERFACE",
				"NETWORK",
				"RX BYTES",
				"RX PACKETS",
				"RX ERR",
				"RX DROP",
				"TX BYTES",
				"TX PACKETS",
				"TX ERR",
				"TX DROP",
			],
			rows.map((r) =>
				[
					r.interface,
					r.network,
					r.rx_bytes,
					r.rx_packets,
					r.rx_errors,
					r.rx_dropped,
					r.tx_bytes,
					r.tx_packets,
					r.tx_errors,
					r.tx_dropped,
				].map(String),
			),
		);
	},
});
