// Every network mode in one table: whether connect / disconnect / reload manage its networks, and
// how it is planned and brought up (what a setup request may carry with it is in mode-rules.ts).
// The lifecycle asks this table and never branches on the mode itself. Teardown needs no entry:
// it is driven by the record (helpers, networks, namespace), whatever made them.
import type { NetworkMode } from "../state/schema";
import { backendFor, type ModeDriver } from "./drivers";
import { attachNetwork, linksInUse } from "./networks";

const passive: ModeDriver = {
	hasNetworks: false,
	async plan() {},
	async up() {},
};

/** CNI or native networks: each attached through its backend, in sorted order. */
const networks: ModeDriver = {
	hasNetworks: true,
	async plan(rt, req) {
		if (req.mode.mode !== "bridge") return;
		// Every network must exist before anything changes (the default one is written here).
		const backend = await backendFor(rt.config.networkBackend);
		for (const n of req.mode.networks) await backend.prepare(rt, n);
		// Rootless: the networks live in the user's rootless netns (made now, when missing).
		if (rt.config.rootless)
			await (await import("./drivers/rootless-networks")).planRootless(rt, req);
	},
	async up(ch) {
		const mode = ch.c.mode;
		if (mode.mode !== "bridge") return;
		const inUse = linksInUse(ch.c);
		for (const network of mode.networks) {
			const pin = network === ch.c.portsNetwork ? { ip: ch.c.staticIP, mac: ch.c.staticMAC } : {};
			await attachNetwork(ch, network, { pin, inUse });
		}
		await this.portsMoved?.(ch);
	},
	async reload(ch) {
		if (ch.rt.config.rootless) {
			// A rootless netns whose slirp4netns died gets it back here.
			const { ensureRootlessNetns } = await import("../rootless/netns");
			await ensureRootlessNetns(ch.rt.config);
		}
		const { finishReload } = await import("./reload");
		await finishReload(ch);
		await this.portsMoved?.(ch);
	},
	async portsMoved(ch) {
		// As root the backends publish ports themselves, but for [::1]; rootless, the forwarder
		// publishes them all.
		if (ch.rt.config.rootless)
			await (await import("./drivers/rootless-networks")).syncRootlessPorts(ch);
		else await (await import("./drivers/forwarder")).syncLoopbackV6(ch);
	},
};

const slirp4netns: ModeDriver = {
	hasNetworks: false,
	async plan(_rt, req) {
		if (req.mode.mode !== "slirp4netns") return;
		// slirp4netns' modules load only for containers that use it.
		return (await import("./drivers/slirp4netns")).planSlirp(req.mode.options);
	},
	async up(ch, plan) {
		const { startSlirp } = await import("./drivers/slirp4netns");
		await startSlirp(ch, plan as Parameters<typeof startSlirp>[1]);
	},
	async reload(ch) {
		const { restartSlirp } = await import("./drivers/slirp4netns");
		await restartSlirp(ch);
	},
};

const pasta: ModeDriver = {
	hasNetworks: false,
	async plan(_rt, req) {
		if (req.mode.mode !== "pasta") return;
		// pasta's modules load only for containers that use it.
		return (await import("./drivers/pasta")).planPasta(req.mode.options, req.ports);
	},
	async up(ch, plan) {
		const { startPastaFor } = await import("./drivers/pasta");
		await startPastaFor(ch, plan as Parameters<typeof startPastaFor>[1]);
	},
	async reload(ch) {
		const { restartPasta } = await import("./drivers/pasta");
		await restartPasta(ch);
	},
};

const DRIVERS: Record<NetworkMode["mode"], ModeDriver> = {
	none: passive,
	host: passive,
	ns: passive,
	container: passive,
	slirp4netns,
	pasta,
	bridge: networks,
};

export function modeDriver(mode: NetworkMode["mode"]): ModeDriver {
	return DRIVERS[mode];
}
