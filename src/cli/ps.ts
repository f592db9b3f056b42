import { basicFromResult, buildInspect } from "../container/inspect";
import { formatMapping } from "../ports/parse";
import { isAlive } from "../process/identity";
import { command } from "./command";
import { outputFormat } from "./context";
import { printJson, printTable } from "./output";
import { runtime } from "./runtime";

export default command({
	meta: { name: "ps", description: "Containers ctrnet knows, with their networks" },
	async run() {
		const rt = await runtime();
		const rows = rt.store.list().map((c) => ({
			id: c.id,
			name: c.name,
			mode: c.mode.mode,
			status: c.status,
			netns: c.netns?.path ?? "",
			networks: c.networks,
			// Per network; a mode without networks (pasta) shows what inspect shows.
			ips: c.networks.length
				? c.networks.map((n) => basicFromResult(c.results[n]).IPAddress).filter(Boolean)
				: [buildInspect(c).NetworkSettings.IPAddress].filter(Boolean),
			ports: c.ports.map(formatMapping),
			// A helper that died (slirp4netns, the port forwarder) shows here; `reload` restarts it.
			helpers: c.helpers.map((h) => ({
				kind: h.kind,
				pid: h.pid,
				running: isAlive(h),
			})),
		}));
		if ((await outputFormat()) === "json") return printJson(rows);
		printTable(
			["ID", "NAME", "MODE", "NETWORKS", "IPS", "PORTS", "HELPERS", "NETNS"],
			rows.map((r) => [
				r.id,
				r.name,
				r.mode,
				r.networks.join(","),
				r.ips.join(","),
				r.ports.join(", "),
				r.helpers.map((h) => `${h.kind}${h.running ? "" : " (dead)"}`).join(","),
				r.netns,
			]),
		);
	},
});
