// The floor under `ctrnet setup`/`teardown` of a container on a no-op CNI network: only the
// effects they cannot skip, with none of ctrnet's logic around them (no config, no schemas, no
// state database, no locks). `startup-lifecycle.ts` compiles this with the release build's flags
// and runs it beside the real commands, so the report shows how much of the ratio is ours.
//   setup ID:    make the netns (ctrnet's own code), run the plugin's ADD, write the result.
//   teardown ID: read the result, run the plugin's DEL, remove the netns, delete the result.
// Env: FLOOR_NETNS_DIR, FLOOR_STATE_DIR, FLOOR_PLUGIN (the no-op plugin's path).
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { createNetns } from "../../src/netns/create";
import { removeNetns } from "../../src/netns/remove";

const [command, id] = process.argv.slice(2);
const netnsDir = process.env.FLOOR_NETNS_DIR ?? "";
const stateDir = process.env.FLOOR_STATE_DIR ?? "";
const plugin = process.env.FLOOR_PLUGIN ?? "";
const conf = { cniVersion: "1.0.0", name: "noopnet", type: "noop" };

const runPlugin = async (cniCommand: string, netns: string) => {
	const p = Bun.spawn([plugin], {
		env: {
			CNI_COMMAND: cniCommand,
			CNI_CONTAINERID: `${id}`,
			CNI_NETNS: netns,
			CNI_IFNAME: "eth0",
		},
		stdin: new TextEncoder().encode(JSON.stringify(conf)),
		stdout: "pipe",
	});
	const out = await new Response(p.stdout).text();
	if ((await p.exited) !== 0) throw new Error(`plugin ${cniCommand} failed`);
	return out;
};

const record = `${stateDir}/${id}.json`;
if (command === "setup") {
	const netns = createNetns(netnsDir, id);
	const result = JSON.parse(await runPlugin("ADD", netns));
	writeFileSync(record, JSON.stringify({ id, netns, result }));
} else if (command === "teardown") {
	const { netns } = JSON.parse(readFileSync(record, "utf8"));
	await runPlugin("DEL", netns);
	removeNetns(netns);
	unlinkSync(record);
} else {
	throw new Error(`usage: floor setup|teardown ID`);
}
