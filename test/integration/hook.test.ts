// The OCI hook under a real runc: bundles made with `runc spec` around Debian's busybox-static,
// ctrnet's hooks put in by `ctrnet hook inject`. The container prints its address, serves HTTP on a
// published port, fails to start on a bad annotation with ctrnet's message in runc's error, and
// leaves nothing on the host after it is gone. runc gets its own --root, ctrnet its own world.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
	copyFileSync,
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import type { InspectObject } from "../../src/container/inspect";
import { BIN, have, requireBinary } from "../lib/cli";
import { world } from "../lib/env";
import { bridgePorts, iptablesMentioning, leaseFiles, mountsUnder, sh } from "../lib/host";

const ok = have(["runc", "busybox", "ip", "iptables", "unshare", "nsenter"], true);
const W = world("t6-hook");
const tag = Math.random().toString(16).slice(2, 6);
const NET = `t6-${tag}`;
const BRIDGE = `t6br${tag}`;
/** A second network whose chain ends in a plugin that refuses ADD (test/fixtures/cni-plugins). */
const NET_FAIL = `t6f-${tag}`;
const BRIDGE_FAIL = `t6bf${tag}`;
const RUNC_ROOT = `${W.dir}/runc`;
let prefix = ""; // "10.216.N." of the network's /24
const ids: string[] = [];
const id = (name: string) => {
	const v = `t6-${tag}-${name}`;
	ids.push(v);
	return v;
};
const sleepers: Bun.Subprocess[] = [];

interface Run {
	code: number;
	out: string;
	err: string;
}

async function runc(args: string[]): Promise<Run> {
	const p = Bun.spawn(["runc", "--root", RUNC_ROOT, ...args], {
		stdin: "ignore",
		stdout: "pipe",
		stderr: "pipe",
	});
	const [out, err, code] = await Promise.all([
		new Response(p.stdout).text(),
		new Response(p.stderr).text(),
		p.exited,
	]);
	return { code, out, err };
}

/** `runc run -d`: the container keeps runc's stdio, so it gets files, never our pipes. */
async function runcDetached(cid: string, bundle: string): Promise<Run> {
	const p = Bun.spawn(["runc", "--root", RUNC_ROOT, "run", "-d", "--bundle", bundle, cid], {
		stdin: "ignore",
		stdout: Bun.file(`${W.dir}/${cid}.out`),
		stderr: Bun.file(`${W.dir}/${cid}.err`),
	});
	const code = await p.exited;
	return { code, out: "", err: readFileSync(`${W.dir}/${cid}.err`, "utf8") };
}

type Spec = Record<string, unknown> & {
	process: Record<string, unknown>;
	linux: { namespaces: { type: string; path?: string }[] };
	annotations?: Record<string, string>;
};

function editSpec(bundle: string, edit: (s: Spec) => void): void {
	const file = `${bundle}/config.json`;
	const spec = JSON.parse(readFileSync(file, "utf8")) as Spec;
	edit(spec);
	writeFileSync(file, JSON.stringify(spec, null, "\t"));
}

const APPLETS = ["sh", "ip", "httpd", "wget", "cat", "sleep", "true", "hostname"];

/** A runc bundle: busybox-static and its applets, `terminal: false`, no rlimits, these args. */
function makeBundle(name: string, args: string[]): string {
	const dir = `${W.dir}/bundles/${name}`;
	mkdirSync(`${dir}/rootfs/bin`, { recursive: true });
	mkdirSync(`${dir}/rootfs/www`, { recursive: true });
	copyFileSync(Bun.which("busybox") as string, `${dir}/rootfs/bin/busybox`);
	sh(["chmod", "755", `${dir}/rootfs/bin/busybox`]);
	for (const a of APPLETS) symlinkSync("busybox", `${dir}/rootfs/bin/${a}`);
	const r = sh(["runc", "spec", "--bundle", dir]);
	if (r.code !== 0) throw new Error(`runc spec: ${r.err}`);
	editSpec(dir, (s) => {
		s.process.terminal = false;
		delete s.process.rlimits;
		s.process.args = args;
	});
	return dir;
}

async function inject(bundle: string, extra: string[] = []): Promise<void> {
	const r = await W.run(["hook", "inject", bundle, "--network", NET, ...extra]);
	if (r.code !== 0) throw new Error(`hook inject: ${r.stderr}`);
}

const PRINT_ADDR = ["sh", "-c", "ip -4 -o addr show dev eth0"];
const addrOf = (out: string) => /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(out)?.[1];

function netnsEntries(): string[] {
	const dir = W.env.CTRNET_NETNS_DIR as string;
	return existsSync(dir) ? readdirSync(dir) : [];
}

function failMarks(): string[] {
	const dir = `${W.env.CTRNET_RUN_ROOT}/hook-failed`;
	return existsSync(dir) ? readdirSync(dir) : [];
}

/** How the CNI plugins' rule comments name a container, as `iptables -S` prints them. */
const mention = (cid: string) => `id: \\"${cid}\\"`;

/** The chains of their own (CNI-<hash>, CNI-DN-<hash>) that the plugins made for a container. */
function chainsOf(cid: string): string[] {
	const lines = iptablesMentioning([mention(cid)]).join("\n");
	return [
		...new Set([...lines.matchAll(/-j (CNI-(?:DN-)?[0-9a-f]{8,})/g)].map((m) => m[1] as string)),
	];
}

function chainExists(chain: string): boolean {
	return sh(["iptables", "-w", "-t", "nat", "-S"]).out.includes(`-N ${chain}\n`);
}

/** What containers of this file could leave behind: veths, leases, rules, netns, rows, marks. */
async function leftovers(cids: string[]): Promise<string[]> {
	const out: string[] = [];
	for (const [net, bridge] of [
		[NET, BRIDGE],
		[NET_FAIL, BRIDGE_FAIL],
	]) {
		out.push(...bridgePorts(bridge as string).map((p) => `veth ${p} on ${net}`));
		out.push(...leaseFiles(net as string).map((l) => `lease ${net}/${l}`));
	}
	out.push(...iptablesMentioning(cids.map(mention)));
	const netnsDir = W.env.CTRNET_NETNS_DIR as string;
	out.push(
		...mountsUnder(netnsDir)
			.filter((m) => m !== netnsDir)
			.map((m) => `mount ${m}`),
	);
	out.push(...netnsEntries().map((f) => `netns ${f}`));
	const rows = await W.json<{ id: string }[]>(["ps", "--format", "json"]);
	out.push(...rows.filter((r) => cids.includes(r.id)).map((r) => `state row ${r.id}`));
	out.push(...failMarks().map((f) => `mark ${f}`));
	const cache = `${W.env.CTRNET_CNI_CACHE_DIR}/results`;
	if (existsSync(cache))
		out.push(...readdirSync(cache).filter((f) => cids.some((c) => f.includes(c))));
	return out;
}

async function inspect(cid: string): Promise<InspectObject> {
	return (await W.json<InspectObject[]>(["inspect", cid]))[0] as InspectObject;
}

async function get(url: string): Promise<string> {
	try {
		const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
		return await r.text();
	} catch {
		return "";
	}
}

beforeAll(async () => {
	requireBinary();
	if (!ok) return;
	// Free 10.216.N.0/24s: create refuses one that overlaps a host route or another network.
	const create = async (name: string): Promise<string> => {
		for (let attempt = 0; attempt < 8; attempt++) {
			const n = 1 + Math.floor(Math.random() * 250);
			const r = await W.run(["network", "create", "--subnet", `10.216.${n}.0/24`, name]);
			if (r.code === 0) return `10.216.${n}.`;
		}
		throw new Error(`no free 10.216.N.0/24 for ${name}`);
	};
	prefix = await create(NET);
	await create(NET_FAIL);
	// Bridge names of their own: networks of other tests' config dirs may pick the same ctrnetN.
	for (const [net, bridge, extra] of [
		[NET, BRIDGE, null],
		[NET_FAIL, BRIDGE_FAIL, { type: "t4-fixture", failOn: "ADD", log: `${W.dir}/fixture.log` }],
	] as const) {
		const file = `${W.env.CTRNET_CNI_CONFIG_DIR}/${net}.conflist`;
		const conf = JSON.parse(readFileSync(file, "utf8"));
		conf.plugins[0].bridge = bridge;
		if (extra) conf.plugins.push(extra);
		writeFileSync(file, JSON.stringify(conf));
	}
});

afterAll(async () => {
	for (const s of sleepers) s.kill();
	if (ok) {
		for (const cid of ids) {
			await runc(["delete", "--force", cid]);
			await Bun.spawn(["runc", "--root", `${RUNC_ROOT}-2`, "delete", "--force", cid]).exited;
			await W.run(["teardown", cid]);
		}
		// A runtime that never ran poststop (podman after a failed create) leaves it to gc.
		await W.run(["gc"]);
		for (const n of [NET, NET_FAIL]) {
			await W.run(["network", "rm", "--force", n]);
			// host-local's dir (lock, last_reserved_ip) outlives `network rm`; ours when lease-free.
			if (leaseFiles(n).length === 0)
				rmSync(`/var/lib/cni/networks/${n}`, { recursive: true, force: true });
		}
	}
	W.cleanup();
});

describe.if(ok)("ctrnet as runc's hook", () => {
	test("runc run: the container prints an eth0 address in the network's subnet", async () => {
		const cid = id("addr");
		const bundle = makeBundle(cid, PRINT_ADDR);
		await inject(bundle);
		const spec = JSON.parse(readFileSync(`${bundle}/config.json`, "utf8"));
		expect(spec.hooks.createRuntime[0].args).toEqual([BIN, "hook", "createRuntime"]);
		expect(spec.hooks.poststop.at(-1).args).toEqual([BIN, "hook", "poststop"]);
		expect(spec.hooks.createRuntime[0].env).toContain(`CTRNET_ROOT=${W.env.CTRNET_ROOT}`);
		expect(spec.annotations).toEqual({ "io.ctrnet.network": NET });

		const r = await runc(["run", "--bundle", bundle, cid]);
		expect(r.err).toBe("");
		expect(r.code).toBe(0);
		expect(addrOf(r.out)).toStartWith(prefix);
		// poststop ran at the end of `runc run`: the host is as before.
		expect(await leftovers([cid])).toEqual([]);
		const events = await W.json<{ id: string; type: string }[]>(["events", "--format", "json"]);
		expect(events.filter((e) => e.id === cid).map((e) => e.type)).toEqual(["setup", "teardown"]);
	});

	test("a detached container serves HTTP on a published port; after kill + delete nothing is left", async () => {
		const cid = id("web");
		const bundle = makeBundle(cid, ["httpd", "-f", "-p", "80", "-h", "/www"]);
		writeFileSync(`${bundle}/rootfs/www/index.html`, `hello from ${cid}`);
		await inject(bundle, ["--publish", "80"]);
		const r = await runcDetached(cid, bundle);
		expect(r.err).toBe("");
		expect(r.code).toBe(0);

		let url = "";
		let sandbox = "";
		let chains: string[] = [];
		try {
			const port = (await W.run(["port", cid, "80/tcp"])).stdout.trim();
			expect(port).toMatch(/^0\.0\.0\.0:\d+$/);
			url = `http://127.0.0.1:${port.split(":")[1]}/`;
			let body = "";
			for (let n = 0; n < 50 && !body; n++) {
				body = await get(url);
				if (!body) await Bun.sleep(100);
			}
			expect(body).toBe(`hello from ${cid}`);

			// While it runs, what the check below looks for is there (so its absence means something).
			const i = await inspect(cid);
			sandbox = i.NetworkSettings.SandboxKey;
			expect(i.NetworkSettings.IPAddress).toStartWith(prefix);
			expect(mountsUnder(sandbox)).toHaveLength(1);
			expect(bridgePorts(BRIDGE)).toHaveLength(1);
			expect(leaseFiles(NET)).toContain(i.NetworkSettings.IPAddress);
			chains = chainsOf(cid);
			expect(chains.filter((c) => c.startsWith("CNI-DN-"))).toHaveLength(1);
			expect(chains.filter((c) => !c.startsWith("CNI-DN-"))).toHaveLength(1);
		} finally {
			await runc(["kill", cid, "KILL"]);
			for (let n = 0; n < 100; n++) {
				if (JSON.parse((await runc(["state", cid])).out).status === "stopped") break;
				await Bun.sleep(50);
			}
		}
		const del = await runc(["delete", cid]);
		expect(del.err).toBe("");
		expect(del.code).toBe(0);
		expect(await leftovers([cid])).toEqual([]);
		expect(chains.filter(chainExists)).toEqual([]);
		expect(existsSync(sandbox)).toBe(false);
		expect(await get(url)).toBe("");
	});

	test("a bad annotation: runc refuses to start, with ctrnet's message, and nothing is left", async () => {
		const cid = id("bad");
		const bundle = makeBundle(cid, PRINT_ADDR);
		await inject(bundle);
		editSpec(bundle, (s) => {
			s.annotations = { ...s.annotations, "io.ctrnet.publish": "99999" };
		});
		const before = netnsEntries();
		const r = await runc(["run", "--bundle", bundle, cid]);
		expect(r.code).not.toBe(0);
		expect(r.out).toBe("");
		expect(r.err).toContain(`ctrnet hook createRuntime (container ${cid})`);
		expect(r.err).toContain('invalid io.ctrnet.publish \\"99999\\": port 99999 is out of range');
		expect(netnsEntries()).toEqual(before);
		expect(await leftovers([cid])).toEqual([]);
		expect((await runc(["state", cid])).code).not.toBe(0);
	});

	test("a setup that fails half-way (second network) is rolled back, pin included", async () => {
		const cid = id("half");
		const bundle = makeBundle(cid, PRINT_ADDR);
		await inject(bundle, ["--network", NET_FAIL]);
		expect(JSON.parse(readFileSync(`${bundle}/config.json`, "utf8")).annotations).toEqual({
			"io.ctrnet.network": `${NET},${NET_FAIL}`,
		});
		const before = netnsEntries();
		const r = await runc(["run", "--bundle", bundle, cid]);
		expect(r.code).not.toBe(0);
		expect(r.err).toContain(`ctrnet hook createRuntime (container ${cid})`);
		expect(r.err).toContain("t4-fixture refuses ADD");
		// It failed on eth1: eth0 on the first network had been made, and was undone.
		expect(readFileSync(`${W.dir}/fixture.log`, "utf8")).toContain(`ADD ${cid} eth1`);
		expect(netnsEntries()).toEqual(before);
		expect(await leftovers([cid])).toEqual([]);
		const events = await W.json<{ id: string }[]>(["events", "--format", "json"]);
		expect(events.filter((e) => e.id === cid)).toEqual([]);
	});

	test("the same ID set up by the CLI: the hook refuses, and its poststop leaves the CLI's container", async () => {
		const cid = id("cli");
		const sleeper = Bun.spawn(["unshare", "-n", "sleep", "60"], { stdout: "ignore" });
		sleepers.push(sleeper);
		await Bun.sleep(100);
		const cli = await W.json<InspectObject>([
			"setup",
			cid,
			"--pid",
			String(sleeper.pid),
			"--network",
			NET,
		]);
		const bundle = makeBundle(cid, PRINT_ADDR);
		await inject(bundle);
		const r = await runc(["run", "--bundle", bundle, cid]);
		expect(r.code).not.toBe(0);
		expect(r.err).toContain(`container ${cid} is already set up`);
		// The CLI's container is untouched: record, namespace, address, lease.
		const after = await inspect(cid);
		expect(after.NetworkSettings.IPAddress).toBe(cli.NetworkSettings.IPAddress);
		expect(mountsUnder(cli.NetworkSettings.SandboxKey)).toHaveLength(1);
		expect(leaseFiles(NET)).toContain(cli.NetworkSettings.IPAddress);
		expect(failMarks()).toEqual([]);
		expect((await W.run(["teardown", cid])).code).toBe(0);
		sleeper.kill();
		expect(await leftovers([cid])).toEqual([]);
	});

	test("the same ID and bundle in another runc --root: refused, and the running one is kept", async () => {
		const cid = id("twice");
		const bundle = makeBundle(cid, ["sleep", "60"]);
		await inject(bundle);
		const first = await runcDetached(cid, bundle);
		expect(first.code).toBe(0);
		const i = await inspect(cid);
		try {
			// Same id, same bundle, so the failed setup's poststop cannot tell the containers apart
			// by the state alone: the failure mark is what keeps it off the running container.
			const p = Bun.spawn(["runc", "--root", `${RUNC_ROOT}-2`, "run", "--bundle", bundle, cid], {
				stdin: "ignore",
				stdout: "pipe",
				stderr: "pipe",
			});
			const err = await new Response(p.stderr).text();
			expect(await p.exited).not.toBe(0);
			expect(err).toContain(`container ${cid} is already set up`);
			expect((await inspect(cid)).NetworkSettings.IPAddress).toBe(i.NetworkSettings.IPAddress);
			expect(mountsUnder(i.NetworkSettings.SandboxKey)).toHaveLength(1);
			expect(failMarks()).toEqual([]);
		} finally {
			await runc(["kill", cid, "KILL"]);
			for (let n = 0; n < 100; n++) {
				if (JSON.parse((await runc(["state", cid])).out).status === "stopped") break;
				await Bun.sleep(50);
			}
		}
		expect((await runc(["delete", cid])).code).toBe(0);
		expect(await leftovers([cid])).toEqual([]);
	});

	test("prestart and createRuntime both configured: set up once, torn down once", async () => {
		const cid = id("both");
		const bundle = makeBundle(cid, PRINT_ADDR);
		await inject(bundle);
		editSpec(bundle, (s) => {
			const hooks = s.hooks as Record<string, { args: string[] }[]>;
			const entry = hooks.createRuntime?.[0] as { args: string[] };
			hooks.prestart = [{ ...entry, args: [BIN, "hook", "prestart"] }];
		});
		const r = await runc(["run", "--bundle", bundle, cid]);
		expect(r.err).toBe("");
		expect(addrOf(r.out)).toStartWith(prefix);
		const events = await W.json<{ id: string; type: string }[]>(["events", "--format", "json"]);
		expect(events.filter((e) => e.id === cid).map((e) => e.type)).toEqual(["setup", "teardown"]);
		expect(await leftovers([cid])).toEqual([]);
	});

	test("two containers started at once get distinct addresses", async () => {
		const a = id("para-a");
		const b = id("para-b");
		const ba = makeBundle(a, PRINT_ADDR);
		const bb = makeBundle(b, PRINT_ADDR);
		await Promise.all([inject(ba), inject(bb)]);
		const [ra, rb] = await Promise.all([
			runc(["run", "--bundle", ba, a]),
			runc(["run", "--bundle", bb, b]),
		]);
		expect([ra.err, rb.err]).toEqual(["", ""]);
		expect([ra.code, rb.code]).toEqual([0, 0]);
		const [ipa, ipb] = [addrOf(ra.out), addrOf(rb.out)];
		expect(ipa).toStartWith(prefix);
		expect(ipb).toStartWith(prefix);
		expect(ipa).not.toBe(ipb);
		expect(await leftovers([a, b])).toEqual([]);
	});

	test("config.json joining a netns path: configured there, and the namespace is kept", async () => {
		const cid = id("join");
		const made = await W.run(["netns", "create", `t6-${tag}-pre`]);
		expect(made.code).toBe(0);
		const path = made.stdout.trim();
		const bundle = makeBundle(cid, PRINT_ADDR);
		editSpec(bundle, (s) => {
			s.linux.namespaces = s.linux.namespaces.map((n) =>
				n.type === "network" ? { type: "network", path } : n,
			);
		});
		await inject(bundle);
		const r = await runc(["run", "--bundle", bundle, cid]);
		expect(r.err).toBe("");
		expect(addrOf(r.out)).toStartWith(prefix);
		// Not ctrnet's to delete: still there, and eth0 went with the teardown.
		expect(mountsUnder(path)).toHaveLength(1);
		const links = sh(["nsenter", `--net=${path}`, "ip", "-o", "link"]).out;
		expect(links).not.toContain("eth0");
		expect((await W.run(["netns", "rm", path])).code).toBe(0);
		expect(await leftovers([cid])).toEqual([]);
	});

	test("inject is idempotent and keeps other hooks", async () => {
		const bundle = makeBundle(`t6-${tag}-inject`, PRINT_ADDR);
		editSpec(bundle, (s) => {
			s.hooks = { poststop: [{ path: "/bin/true", args: ["true"] }] };
		});
		await inject(bundle, ["-p", "8080:80", "--alias", "web"]);
		const once = readFileSync(`${bundle}/config.json`, "utf8");
		await inject(bundle, ["-p", "8080:80", "--alias", "web"]);
		expect(readFileSync(`${bundle}/config.json`, "utf8")).toBe(once);
		const spec = JSON.parse(once);
		expect(spec.hooks.poststop.map((h: { path: string }) => h.path)).toEqual(["/bin/true", BIN]);
		expect(spec.annotations["io.ctrnet.publish"]).toBe("8080:80");
		const bad = await W.run(["hook", "inject", bundle, "--publish", "99999"]);
		expect(bad.code).toBe(125);
		expect(readFileSync(`${bundle}/config.json`, "utf8")).toBe(once);
	});
});

const okPodman = ok && have(["podman"], true);

describe.if(okPodman)("ctrnet as podman's hooks.d hook", () => {
	test("podman run --network none + annotations: `hook auto` sets up and tears down", async () => {
		const hooksDir = `${W.dir}/hooks.d`;
		mkdirSync(hooksDir, { recursive: true });
		const conf = await W.run(["hook", "config"]);
		expect(conf.code).toBe(0);
		writeFileSync(`${hooksDir}/ctrnet.json`, conf.stdout);
		const rootfs = `${makeBundle(`t6-${tag}-podman`, ["true"])}/rootfs`;
		const before = new Set(
			(await W.json<{ id: string }[]>(["events", "--format", "json"])).map((e) =>
				JSON.stringify(e),
			),
		);
		// Its own storage and run dirs; runc (crun refuses this host's cgroups); low rlimits (this
		// host refuses the nofile/nproc podman asks for by default); `--rootfs`: no image needed.
		const p = Bun.spawn(
			[
				"podman",
				"--root",
				`${W.dir}/podman/root`,
				"--runroot",
				`${W.dir}/podman/run`,
				"--hooks-dir",
				hooksDir,
				"--cgroup-manager",
				"cgroupfs",
				"--events-backend",
				"file",
				"run",
				"--rm",
				"--runtime",
				"runc",
				"--ulimit",
				"nofile=1024:1024",
				"--ulimit",
				"nproc=1024:1024",
				"--network",
				"none",
				"--annotation",
				`io.ctrnet.network=${NET}`,
				"--rootfs",
				rootfs,
				"ip",
				"-4",
				"-o",
				"addr",
				"show",
				"dev",
				"eth0",
			],
			{ stdin: "ignore", stdout: "pipe", stderr: "pipe" },
		);
		const [out, err, code] = await Promise.all([
			new Response(p.stdout).text(),
			new Response(p.stderr).text(),
			p.exited,
		]);
		expect(err).toBe("");
		expect(code).toBe(0);
		expect(addrOf(out)).toStartWith(prefix);
		// One setup and one teardown for podman's container ID, and nothing left.
		const events = (
			await W.json<{ id: string; type: string }[]>(["events", "--format", "json"])
		).filter((e) => !before.has(JSON.stringify(e)));
		expect(events.map((e) => e.type)).toEqual(["setup", "teardown"]);
		expect(events[0]?.id).toMatch(/^[0-9a-f]{64}$/);
		expect(await leftovers([events[0]?.id as string])).toEqual([]);
	});
});

describe.if(ok)("hook stages without a runtime", () => {
	const stateOf = (cid: string, status: string) =>
		JSON.stringify({ ociVersion: "1.0.2", id: cid, status, bundle: `${W.dir}/none` });

	test("poststop of an unknown container exits 0, quietly", async () => {
		const r = await W.run(["hook", "poststop"], { stdin: stateOf(`t6-${tag}-ghost`, "stopped") });
		expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
		const auto = await W.run(["hook", "auto"], { stdin: stateOf(`t6-${tag}-ghost`, "stopped") });
		expect(auto.code).toBe(0);
	});

	test("auto refuses a status it has no stage for; bad stdin is one error line", async () => {
		const r = await W.run(["hook", "auto"], { stdin: stateOf("x", "running") });
		expect(r.code).toBe(125);
		expect(r.stderr).toContain("no stage ctrnet handles");
		const bad = await W.run(["hook", "createRuntime"], { stdin: "{}" });
		expect(bad.code).toBe(125);
		expect(bad.stderr.trim().split("\n")).toHaveLength(1);
		expect(bad.stderr).toStartWith("Error: ctrnet hook createRuntime: invalid OCI state on stdin");
	});

	test("gc reclaims a hook's container whose poststop never came", async () => {
		const cid = id("orphan");
		const sleeper = Bun.spawn(["unshare", "-n", "sleep", "60"], { stdout: "ignore" });
		sleepers.push(sleeper);
		await Bun.sleep(100);
		const bundle = makeBundle(cid, ["true"]);
		const state = JSON.stringify({
			ociVersion: "1.0.2",
			id: cid,
			status: "creating",
			pid: sleeper.pid,
			bundle,
			annotations: { "io.ctrnet.network": NET },
		});
		const r = await W.run(["hook", "createRuntime"], { stdin: state });
		expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
		const i = await inspect(cid);
		expect(i.NetworkSettings.IPAddress).toStartWith(prefix);
		// Alive: gc leaves it. Gone without a poststop (a killed runtime): gc reclaims it.
		await W.json(["gc", "--format", "json"]).catch(() => undefined);
		expect((await inspect(cid)).Id).toBe(cid);
		sleeper.kill();
		await sleeper.exited;
		const gc = await W.run(["gc"]);
		expect(gc.code).toBe(0);
		expect(gc.stdout).toContain(`reclaimed ${cid}: its OCI runtime container's process`);
		expect(await leftovers([cid])).toEqual([]);
	});

	test("hook config prints a hooks.d 1.0.0 document running this binary", async () => {
		const r = await W.run(["hook", "config"]);
		expect(r.code).toBe(0);
		const c = JSON.parse(r.stdout);
		expect(c.version).toBe("1.0.0");
		expect(c.hook.path).toBe(BIN);
		expect(c.hook.args).toEqual([BIN, "hook", "auto"]);
		expect(c.stages).toEqual(["createRuntime", "poststop"]);
		expect(c.hook.env).toContain(`CTRNET_NETNS_DIR=${W.env.CTRNET_NETNS_DIR}`);
	});
});

describe.if(ok)("ctrnet as runc's hook, native backend", () => {
	const N = world("t6-hook-native");
	N.env.CTRNET_NETWORK_BACKEND = "native";
	const NNET = `t6n-${tag}`;
	const NBR = `t6nb${tag}`;
	afterAll(async () => {
		await N.run(["network", "rm", "--force", NNET]);
		N.cleanup();
	});

	test("runc run: eth0 on the native network; poststop leaves no veth, element or namespace", async () => {
		const r0 = await N.run([
			"network",
			"create",
			"--disable-dns",
			"--subnet",
			"10.216.251.0/24",
			"--interface-name",
			NBR,
			NNET,
		]);
		expect(r0.stderr).toBe("");
		const cid = id("native");
		const bundle = makeBundle(cid, PRINT_ADDR);
		const inj = await N.run(["hook", "inject", bundle, "--network", NNET, "-p", "18650:80"]);
		expect(inj.code).toBe(0);
		const spec = JSON.parse(readFileSync(`${bundle}/config.json`, "utf8"));
		expect(spec.hooks.createRuntime[0].env).toContain("CTRNET_NETWORK_BACKEND=native");
		const r = await runc(["run", "--bundle", bundle, cid]);
		expect([r.code, r.err]).toEqual([0, ""]);
		expect(addrOf(r.out)).toStartWith("10.216.251.");
		expect(bridgePorts(NBR)).toEqual([]);
		expect(sh(["nft", "list", "table", "inet", "ctrnet"]).out).not.toContain(cid);
		const netns = N.env.CTRNET_NETNS_DIR;
		expect(existsSync(netns) ? readdirSync(netns) : []).toEqual([]);
		expect(await N.json(["ps", "--format", "json"])).toEqual([]);
	});
});
