// The native data plane in-process (root): attach + detach of one container on a warm bridge,
// median over RUNS, with each step's median; detach that leaves the veth to the netns's
// removal; the container-side requests batched against sent one by one; what deleting a veth
// costs the caller, five ways; and the peer — netavark 1.4 setup+teardown of the same network in
// the same run (internal, so neither side touches the firewall: data plane against data plane,
// netavark's process start-up included). Prints medians in ms and ratios. Run by native.sh.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { MNT_DETACH, umount2 } from "../../ffi/libc";
import { nthAddress, parseSubnet } from "../../src/ip/cidr";
import {
	attachBridge,
	detachBridge,
	ensureBridge,
	type NativeNetwork,
	planInterface,
	removeBridgeIfUnused,
	setNativeTrace,
} from "../../src/native";
import { configureRequests } from "../../src/native/inside";
import * as N from "../../src/netlink";
import * as NS from "../../src/netns";
import { hexId, median, timed } from "./lib";

const RUNS = Math.max(30, Number(process.env.RUNS ?? 40));
const WARMUP = 3;
const NETAVARK = process.env.NETAVARK ?? "/usr/lib/podman/netavark";
const BIN = resolve(import.meta.dir, "../../dist/ctrnet");
const work = mkdtempSync(`${tmpdir()}/tnv-bench-`);
const NETNS = `${work}/netns`;
const LOCKS = `${work}/locks`;

const dual: NativeNetwork = {
	name: "tnvbench",
	driver: "bridge",
	network_interface: "tnvbench0",
	subnets: [
		{ subnet: "10.235.9.0/24", gateway: "10.235.9.1" },
		{ subnet: "fd35:9::/64", gateway: "fd35:9::1" },
	],
	ipv6_enabled: true,
	internal: false,
	dns_enabled: false,
};
const v4only: NativeNetwork = {
	...dual,
	name: "tnvbench4",
	network_interface: "tnvbench4",
	subnets: [{ subnet: "10.235.10.0/24", gateway: "10.235.10.1" }],
	ipv6_enabled: false,
};

const fmt = (n: number) => n.toFixed(3).padStart(8);
const row = (label: string, ms: number, note = "") =>
	console.log(`  ${label.padEnd(46)} ${fmt(ms)} ms${note ? `  ${note}` : ""}`);
const ratio = (label: string, x: number, note = "") =>
	console.log(`  ${label.padEnd(46)} ${fmt(x)} x${note ? `   ${note}` : ""}`);

/** Waits (bounded) for a link to vanish; false when it did not (its netns is pinned). */
function awaitGone(nl: N.NetlinkSocket, name: string, ms = 5000): boolean {
	const end = performance.now() + ms;
	while (N.findLink(nl, name)) {
		if (performance.now() > end) return false;
		Bun.sleepSync(0.5);
	}
	return true;
}

/**
 * attach+detach RUNS times on a warm bridge; medians of the totals and of each traced step.
 * `leaveToNetns`: detach only takes the veth off the bridge, and the netns's removal (timed as
 * part of detach, since the caller must do it) lets the kernel delete the veth later.
 */
function attachDetach(net: NativeNetwork, addresses: string[], leaveToNetns = false) {
	const keeperNs = NS.createNetns(NETNS, `${net.name}-keeper-${leaveToNetns}`);
	const keeperAddrs = addresses.map((a) => a.replace(/\.5\//, ".250/").replace(/::5\//, "::fa/"));
	const keeper = attachBridge({
		net,
		netnsPath: keeperNs,
		ifname: "eth0",
		addresses: keeperAddrs,
		lockDir: LOCKS,
	});
	const steps = new Map<string, number[]>();
	const totals = { attach: [] as number[], detach: [] as number[], both: [] as number[] };
	for (let i = 0; i < RUNS + WARMUP; i++) {
		const p = NS.createNetns(NETNS, `${net.name}-${leaveToNetns}-${i}`);
		const runSteps = new Map<string, number>();
		setNativeTrace((s, ms) => runSteps.set(s, (runSteps.get(s) ?? 0) + ms));
		const t0 = performance.now();
		const a = attachBridge({ net, netnsPath: p, ifname: "eth0", addresses, lockDir: LOCKS });
		const t1 = performance.now();
		detachBridge({ net, ifname: "eth0", hostVeth: a.hostVeth, leaveToNetns });
		if (leaveToNetns) NS.removeNetns(p);
		const t2 = performance.now();
		setNativeTrace(undefined);
		if (!leaveToNetns) NS.removeNetns(p);
		if (i < WARMUP) continue;
		totals.attach.push(t1 - t0);
		totals.detach.push(t2 - t1);
		totals.both.push(t2 - t0);
		for (const [s, ms] of runSteps) steps.set(s, [...(steps.get(s) ?? []), ms]);
	}
	detachBridge({ net, ifname: "eth0", hostVeth: keeper.hostVeth });
	NS.removeNetns(keeperNs);
	// A veth left to a netns's removal may still be on its way out: wait, then the bridge goes.
	N.withNetlink(undefined, (nl) => {
		const br = N.findLink(nl, net.network_interface);
		const end = performance.now() + 5000;
		while (br && N.listLinks(nl, { master: br.index }).length && performance.now() < end) {
			Bun.sleepSync(1);
		}
	});
	removeBridgeIfUnused(net, { lockDir: LOCKS });
	return {
		attach: median(totals.attach),
		detach: median(totals.detach),
		both: median(totals.both),
		steps: [...steps].map(([s, v]) => [s, median(v)] as const),
	};
}

/** The container-side requests in one datagram against one request (and ack) each. */
function batchVsSequential(net: NativeNetwork, addresses: string[]) {
	const host = N.openNetlink();
	const bridge = ensureBridge(net, host);
	const plan = planInterface(net, addresses);
	const out = { batched: [] as number[], sequential: [] as number[] };
	for (let i = 0; i < RUNS + WARMUP; i++) {
		for (const mode of ["batched", "sequential"] as const) {
			const p = NS.createNetns(NETNS, `bvs-${mode}-${i}`);
			N.createVeth(host, "tnvbvs0", "eth0", { peerNetnsPath: p, master: bridge.index, up: true });
			const ms = NS.inNetns(p, () => {
				const nl = new N.NetlinkSocket(p);
				try {
					const items = configureRequests("eth0", N.getLink(nl, "eth0").index, plan);
					const t0 = performance.now();
					if (mode === "batched") nl.batch(items);
					else for (const it of items) nl.request(it.op, it.type, it.flags, it.body, it.attrs);
					return performance.now() - t0;
				} finally {
					nl.close();
				}
			});
			NS.removeNetns(p); // takes the veth with it (the kernel's cleanup)
			if (!awaitGone(host, "tnvbvs0")) N.deleteLink(host, "tnvbvs0");
			if (i >= WARMUP) out[mode].push(ms);
		}
	}
	removeBridgeIfUnused(net, { lockDir: LOCKS });
	host.close();
	return { batched: median(out.batched), sequential: median(out.sequential) };
}

/**
 * What deleting the container's veth costs the caller: RTM_DELLINK of the host end, of the
 * container end (from inside its netns), after setting it down; and not deleting it at all but
 * removing the netns, which the kernel cleans up on a workqueue later (how much later: "gone").
 */
function deletion(net: NativeNetwork) {
	const host = N.openNetlink();
	const bridge = ensureBridge(net, host);
	const modes = [
		"host end",
		"host end, unwaited (what detach does)",
		"container end",
		"down, then host end",
		"netns removal only",
	] as const;
	const ms: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
	const gone: number[] = [];
	const netnsRm: number[] = [];
	let pinned = 0;
	for (let i = 0; i < RUNS + WARMUP; i++) {
		for (const mode of modes) {
			const p = NS.createNetns(NETNS, `del-${i}`);
			N.createVeth(host, "tnvdel0", "eth0", { peerNetnsPath: p, master: bridge.index, up: true });
			N.withNetlink(p, (nl) => N.setLinkUp(nl, "eth0"));
			let t0 = performance.now();
			if (mode === "host end") N.deleteLink(host, "tnvdel0");
			else if (mode === "host end, unwaited (what detach does)")
				N.deleteLinkUnwaited(undefined, N.getLink(host, "tnvdel0").index);
			else if (mode === "container end") N.withNetlink(p, (nl) => N.deleteLink(nl, "eth0"));
			else if (mode === "down, then host end") {
				N.setLinkDown(host, "tnvdel0");
				t0 = performance.now();
				N.deleteLink(host, "tnvdel0");
			}
			const t1 = performance.now();
			NS.removeNetns(p);
			const t2 = performance.now();
			if (mode === "netns removal only") {
				if (awaitGone(host, "tnvdel0")) {
					if (i >= WARMUP) gone.push(performance.now() - t1);
				} else {
					pinned++;
					N.deleteLink(host, "tnvdel0");
				}
			}
			if (i < WARMUP) continue;
			(ms[mode] as number[]).push(mode === "netns removal only" ? t2 - t1 : t1 - t0);
			if (mode !== "netns removal only") netnsRm.push(t2 - t1);
		}
	}
	removeBridgeIfUnused(net, { lockDir: LOCKS });
	host.close();
	return {
		modes: modes.map((m) => [m, median(ms[m] as number[])] as const),
		gone: median(gone),
		pinned,
		netnsRmEmpty: median(netnsRm),
	};
}

/** netavark 1.4 setup + teardown of one container on the same (internal) network, warm bridge. */
async function netavark(net: NativeNetwork) {
	if (!existsSync(NETAVARK)) return undefined;
	const nvNet = { ...net, name: "tnvnv", network_interface: "tnvnv0", internal: true };
	const input = (id: string, host: number) =>
		JSON.stringify({
			container_id: hexId(id),
			container_name: id,
			port_mappings: [],
			networks: {
				tnvnv: {
					interface_name: "eth0",
					static_ips: nvNet.subnets.map((s) => nthAddress(parseSubnet(s.subnet), host)),
				},
			},
			network_info: {
				tnvnv: { ...nvNet, id: hexId("tnvnv"), ipam_options: { driver: "host-local" } },
			},
		});
	const cfg = `${work}/netavark`;
	const keeperNs = NS.createNetns(NETNS, "nv-keeper");
	const oneNs = NS.createNetns(NETNS, "nv-one");
	const nv = (cmd: string, path: string, stdin: string) =>
		timed([NETAVARK, "--config", cfg, cmd, path], {}, stdin);
	await nv("setup", keeperNs, input("keeper", 250));
	const setup: number[] = [];
	const teardown: number[] = [];
	for (let i = 0; i < RUNS + WARMUP; i++) {
		const s = await nv("setup", oneNs, input("one", 5));
		const t = await nv("teardown", oneNs, input("one", 5));
		if (i < WARMUP) continue;
		setup.push(s.ms);
		teardown.push(t.ms);
	}
	await nv("teardown", keeperNs, input("keeper", 250));
	N.withNetlink(undefined, (nl) => {
		if (N.findLink(nl, "tnvnv0")) N.deleteLink(nl, "tnvnv0");
	});
	NS.removeNetns(keeperNs);
	NS.removeNetns(oneNs);
	const both = setup.map((s, i) => s + (teardown[i] as number));
	return { setup: median(setup), teardown: median(teardown), both: median(both) };
}

/** `ctrnet version`: the floor of any ctrnet command (process start-up), when the binary is built. */
async function startup() {
	if (!existsSync(BIN)) return undefined;
	const ms: number[] = [];
	for (let i = 0; i < RUNS + WARMUP; i++) {
		const r = await timed([BIN, "version"]);
		if (i >= WARMUP) ms.push(r.ms);
	}
	return median(ms);
}

try {
	const addrs = ["10.235.9.5/24", "fd35:9::5/64"];
	console.log(`native data plane, in-process, medians of ${RUNS} runs (after ${WARMUP} warm-up)`);
	const d = attachDetach(dual, addrs);
	console.log("attach + detach, dual-stack bridge network, warm bridge:");
	for (const [s, ms] of d.steps) row(`  step: ${s}`, ms);
	row("attach (total)", d.attach);
	row("detach (total)", d.detach);
	row("attach + detach", d.both);
	const v4 = attachDetach(v4only, ["10.235.10.5/24"]);
	console.log("attach + detach, IPv4-only bridge network, warm bridge:");
	row("attach (total)", v4.attach);
	row("detach (total)", v4.detach);
	row("attach + detach", v4.both);
	const lv = attachDetach(dual, addrs, true);
	console.log(
		"attach + detach with leaveToNetns (dual stack; detach = off the bridge + netns rm):",
	);
	for (const [s, ms] of lv.steps) if (s.startsWith("veth")) row(`  step: ${s}`, ms);
	row("detach (total, netns removal included)", lv.detach);
	row("attach + detach", lv.both);

	const b = batchVsSequential(dual, addrs);
	console.log("container side (up, lo up, 2 addresses, 2 routes):");
	row("one datagram (batch)", b.batched);
	row("one request + ack each", b.sequential);
	ratio("sequential / batch", b.sequential / b.batched);

	const del = deletion(dual);
	console.log("deleting the veth, what the caller waits for:");
	for (const [m, ms] of del.modes) row(m, ms);
	row("  ...veth gone after netns removal", del.gone, "(kernel workqueue; nobody waits)");
	if (del.pinned) console.log(`  (${del.pinned} netns kept alive by a thread of this process)`);
	row("netns removal after the veth was deleted", del.netnsRmEmpty);

	const nv = await netavark(dual);
	const floor = await startup();
	if (nv) {
		console.log("peer: netavark 1.4 setup + teardown, same network (internal: no firewall):");
		row("netavark setup", nv.setup);
		row("netavark teardown", nv.teardown);
		row("netavark setup + teardown", nv.both);
		ratio("in-process attach+detach / netavark", d.both / nv.both);
		ratio("  ...with leaveToNetns / netavark", lv.both / nv.both);
		if (floor !== undefined) {
			row("ctrnet version (process floor)", floor);
			const projected = 2 * floor + d.both;
			const projectedLv = 2 * floor + lv.both;
			row("projected: 2 x floor + attach + detach", projected);
			row("  ...with leaveToNetns", projectedLv);
			ratio("projected / netavark", projected / nv.both, "goal <= 0.5");
			ratio("  ...with leaveToNetns", projectedLv / nv.both, "goal <= 0.5");
		} else console.log("  (dist/ctrnet not built: no process floor, no projection)");
	} else console.log(`peer: ${NETAVARK} not found, no ratio`);
} finally {
	for (const e of NS.listNetns(NETNS)) NS.removeNetns(e.path, { stale: true });
	while (NS.mountsAt(NS.readMountinfo(), NETNS).length) umount2(NETNS, MNT_DETACH);
	rmSync(work, { recursive: true, force: true });
}
