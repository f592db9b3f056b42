// One process of the IPAM concurrency test: opens the state database as ctrnet does, waits for
// the start signal (so that all processes hit the database at the same moment), then allocates
// or releases, and prints {"leases": [...]} or {"error": "..."}.
import { existsSync, writeFileSync } from "node:fs";
import { allocate, releaseAll } from "../../src/ipam/leases";
import { getNetworkDef } from "../../src/netconf/store";
import { Store } from "../../src/state/store";

const [mode, stateDir, netDir, network, containerId, syncDir] = process.argv.slice(2) as string[];
try {
	const store = Store.open(stateDir as string);
	const def = getNetworkDef(netDir as string, network as string);
	writeFileSync(`${syncDir}/ready-${containerId}`, "");
	while (!existsSync(`${syncDir}/go`)) await Bun.sleep(2);
	const leases =
		mode === "allocate"
			? allocate(store.db, def, { containerId: containerId as string, attachment: "eth0" })
			: releaseAll(store.db, containerId as string);
	store.close();
	console.log(JSON.stringify({ leases }));
} catch (err) {
	console.log(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
}
