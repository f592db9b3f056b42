// slirp4netns started by ctrnet's library: addresses, MTU, the API port handler (real client
// address), rootlessport on top, stopping, the sandbox's private mount namespace, and the
// rootless PID form as an unprivileged user.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { inNetns } from "../../ffi/netns";
import { startRootlessport } from "../../src/helpers/rootlessport";
import { type StartedSlirp, startSlirp4netns } from "../../src/helpers/slirp4netns";
import { stopHelper } from "../../src/helpers/stop";
import { listHostfwd, publishViaSlirp, removeHostfwd } from "../../src/slirp/api";
import { detectSlirp, type SlirpInfo } from "../../src/slirp/features";
import { parseSlirpOptions, slirpGuestIP } from "../../src/slirp/options";
import { have } from "../lib/cli";
import { alive, must, waitUnshared } from "../lib/host";
import {
	freePort,
	isMounted,
	makeNetns,
	stopPid,
	tcpExchange,
	tcpServerIn,
	testUser,
	uniq,
	waitGone,
	waitPortFree,
} from "../lib/rootless";

const ok = have(["ip", "slirp4netns", "nsenter", "unshare"], true);
let info: SlirpInfo;
const tmp = mkdtempSync("/tmp/t7-slirp-");

function tap0(nsArgs: string[]): { addr: string; mtu: number } {
	const j = JSON.parse(must(["ip", ...nsArgs, "-j", "addr", "show", "tap0"]))[0];
	const v4 = j.addr_info.find((a: { family: string }) => a.family === "inet");
	return { addr: `${v4.local}/${v4.prefixlen}`, mtu: j.mtu };
}

async function start(
	ns: string,
	opts: string[],
	extra: { hasPorts?: boolean; holdExit?: boolean } = {},
) {
	return startSlirp4netns({
		binary: info.path,
		features: info.features,
		options: parseSlirpOptions(opts, info.features),
		target: { netnsPath: ns },
		containerId: `t7-${uniq()}`,
		tmpDir: tmp,
		hasPorts: extra.hasPorts ?? false,
		holdExit: extra.holdExit,
	});
}

describe.skipIf(!ok)("slirp4netns as root (netns path form)", () => {
	let ns: ReturnType<typeof makeNetns>;
	let sibling: ReturnType<typeof makeNetns>;
	let slirp: StartedSlirp | undefined;
	const cidr = "10.66.0.0/24";

	beforeAll(async () => {
		info = (await detectSlirp()) as SlirpInfo;
		sibling = makeNetns();
		ns = makeNetns();
	});
	afterAll(async () => {
		if (slirp) await stopHelper(slirp);
		ns?.remove();
		sibling?.remove();
	});

	test("tap0 gets <cidr>.100/24 and mtu=9000; other named netns survive the sandbox", async () => {
		const before = must(["ip", "netns", "list"])
			.split("\n")
			.map((l) => l.split(" ")[0])
			.filter((n): n is string => !!n);
		slirp = await start(ns.path, [`cidr=${cidr}`, "mtu=9000", "port_handler=slirp4netns"], {
			hasPorts: true,
		});
		expect(alive(slirp.pid)).toBe(true);
		expect(tap0(["-n", ns.name])).toEqual({ addr: "10.66.0.100/24", mtu: 9000 });
		const args = (await Bun.file(`/proc/${slirp.pid}/cmdline`).text()).split("\0");
		expect(args).toContain("--enable-sandbox");
		// slirp4netns ran in a mount namespace of its own, and nothing of ours was unmounted.
		const ours = readlinkSync("/proc/thread-self/ns/mnt");
		expect(readlinkSync(`/proc/${slirp.pid}/ns/mnt`)).not.toBe(ours);
		expect(isMounted(sibling.path)).toBe(true);
		for (const name of before) expect(isMounted(`/run/netns/${name}`)).toBe(true);
		// Every thread of ours (the JS thread too) is back in one and the same mount namespace.
		const all = new Set(
			readdirSync("/proc/self/task").map((t) => readlinkSync(`/proc/self/task/${t}/ns/mnt`)),
		);
		expect([...all]).toEqual([ours]);
	});

	test("port_handler=slirp4netns: the server sees the real client address", async () => {
		if (!slirp?.apiSocket) throw new Error("no API socket");
		// A client with a real (non-loopback) address: a veth pair made here, host side 10.78.x.1.
		const client = makeNetns();
		const oct = 1 + Math.floor(Math.random() * 250);
		const hostIf = `t7h${uniq()}`;
		try {
			must([
				"ip",
				"link",
				"add",
				hostIf,
				"type",
				"veth",
				"peer",
				"name",
				"eth0",
				"netns",
				client.name,
			]);
			must(["ip", "addr", "add", `10.78.${oct}.1/24`, "dev", hostIf]);
			must(["ip", "link", "set", hostIf, "up"]);
			must(["ip", "-n", client.name, "addr", "add", `10.78.${oct}.2/24`, "dev", "eth0"]);
			must(["ip", "-n", client.name, "link", "set", "eth0", "up"]);
			const srv = tcpServerIn(ns.path, 8000);
			const port = freePort();
			const ids = await publishViaSlirp(slirp.apiSocket, [
				{ hostIP: `10.78.${oct}.1`, hostPort: port, containerPort: 8000, protocol: "tcp" },
			]);
			expect(ids.length).toBe(1);
			const listed = await listHostfwd(slirp.apiSocket);
			expect(listed).toContainEqual(
				expect.objectContaining({
					id: ids[0],
					host_port: port,
					guest_port: 8000,
					guest_addr: "10.66.0.100",
				}),
			);
			await expect(
				publishViaSlirp(slirp.apiSocket, [
					{ hostIP: `10.78.${oct}.1`, hostPort: port, containerPort: 8000, protocol: "tcp" },
				]),
			).rejects.toThrow(/^error from slirp4netns while setting up port redirection: /);
			const reply = await new Promise<string>((resolve, reject) => {
				let got = "";
				inNetns(client.path, () => {
					Bun.connect({
						hostname: `10.78.${oct}.1`,
						port,
						socket: {
							data(s, d) {
								got += d.toString();
								if (got.includes("\n")) s.end();
							},
							close: () => resolve(got),
							connectError: (_s, e) => reject(e),
						},
					}).catch(() => {});
				});
			});
			expect(reply).toBe(`peer 10.78.${oct}.2\n`);
			expect(srv.peers).toEqual([`10.78.${oct}.2`]);
			await removeHostfwd(slirp.apiSocket, ids[0] as number);
			expect(await listHostfwd(slirp.apiSocket)).toEqual([]);
			srv.stop();
		} finally {
			client.remove(); // takes the veth pair with it
		}
	});

	test("rootlessport on top dials <cidr>.100: the server sees that, not 127.0.0.1", async () => {
		const srv = tcpServerIn(ns.path, 0);
		const port = freePort();
		const rp = await startRootlessport({
			mappings: [{ hostIP: "127.0.0.1", hostPort: port, containerPort: srv.port, protocol: "tcp" }],
			netnsPath: ns.path,
			childIP: slirpGuestIP(cidr),
			containerId: "t7-rp",
			tmpDir: tmp,
		});
		try {
			expect(await tcpExchange("127.0.0.1", port, "x\n")).toBe("peer 10.66.0.100\nx\nbye\n");
		} finally {
			await stopHelper(rp);
			srv.stop();
		}
		expect(await waitPortFree(port)).toBe(true);
	});

	test("stopping leaves no process and no API socket", async () => {
		const s = slirp as StartedSlirp;
		slirp = undefined;
		expect(await stopHelper(s)).toBe(true);
		expect(await waitGone(s.pid)).toBe(true);
		expect(existsSync(s.apiSocket as string)).toBe(false);
		expect(isMounted(sibling.path)).toBe(true);
	});

	test("holdExit: slirp4netns gets -e 3 and exits when the write end closes", async () => {
		const s = await start(ns.path, []);
		await stopHelper(s);
		const held = await start(ns.path, [], { holdExit: true });
		const args = (await Bun.file(`/proc/${held.pid}/cmdline`).text()).split("\0");
		expect(args.join(" ")).toContain("-c -e 3 -r 4 --netns-type=path");
		closeSync(held.exitWriteFd as number);
		expect(await waitGone(held.pid)).toBe(true);
	});

	test("allow_host_loopback=true reaches the host's loopback at 10.0.2.2; the default does not", async () => {
		const host = Bun.listen({
			hostname: "127.0.0.1",
			port: 0,
			socket: {
				open(s) {
					s.end("host\n");
				},
				data() {},
			},
		});
		/** What a client inside `path` reads from 10.0.2.2:<host port> ("" when it cannot connect). */
		const probe = (path: string) =>
			new Promise<string>((resolve) => {
				let got = "";
				const t = setTimeout(() => resolve(got), 3000);
				inNetns(path, () => {
					Bun.connect({
						hostname: "10.0.2.2",
						port: host.port,
						socket: {
							data: (_s, d) => {
								got += d.toString();
							},
							close: () => {
								clearTimeout(t);
								resolve(got);
							},
							connectError: () => {
								clearTimeout(t);
								resolve("");
							},
						},
					}).catch(() => {});
				});
			});
		try {
			for (const [opts, expected] of [
				[["allow_host_loopback=true"], "host\n"],
				[[], ""],
			] as const) {
				const box = makeNetns();
				const s = await start(box.path, [...opts]);
				try {
					expect(await probe(box.path)).toBe(expected);
				} finally {
					await stopHelper(s);
					box.remove();
				}
			}
		} finally {
			host.stop(true);
		}
	});

	test("a slirp4netns that dies returns its log", async () => {
		await expect(start("/run/netns/t7-does-not-exist", [])).rejects.toThrow(
			/^slirp4netns failed: ".+"/,
		);
	});
});

describe.skipIf(!ok)("slirp4netns rootless (PID form, unprivileged user)", () => {
	test("a process in its own user+net namespace gets tap0 with <cidr>.100 and the MTU", async () => {
		const user = testUser();
		if (!user) return;
		const { uid, gid, dir } = user;
		// The "container": a process in a new user+net namespace of the test user.
		const ctr = Bun.spawn(["unshare", "-Urn", "sleep", "60"], {
			uid,
			gid,
			stdout: "ignore",
			stderr: "ignore",
		});
		let slirpPid = 0;
		try {
			await waitUnshared(ctr.pid, 1000, 10);
			const runner = Bun.spawn(
				[
					process.execPath,
					`${import.meta.dir}/../lib/slirp-runner.ts`,
					String(ctr.pid),
					dir,
					"cidr=10.67.0.0/24",
					"mtu=9000",
				],
				{
					uid,
					gid,
					stdout: "pipe",
					stderr: "pipe",
					env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
				},
			);
			const out = JSON.parse(await new Response(runner.stdout).text());
			expect(out.error).toBeUndefined();
			slirpPid = out.pid;
			const status = await Bun.file(`/proc/${slirpPid}/status`).text();
			expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, "m"));
			const j = JSON.parse(
				must(["nsenter", "-t", String(ctr.pid), "-n", "ip", "-j", "addr", "show", "tap0"]),
			)[0];
			const v4 = j.addr_info.find((a: { family: string }) => a.family === "inet");
			expect(`${v4.local}/${v4.prefixlen}`).toBe("10.67.0.100/24");
			expect(j.mtu).toBe(9000);
		} finally {
			if (slirpPid) await stopPid(slirpPid);
			ctr.kill("SIGKILL");
			await ctr.exited;
			rmSync(dir, { recursive: true, force: true });
		}
		if (slirpPid) expect(await waitGone(slirpPid)).toBe(true);
	});
});

describe.skipIf(!ok)(
	"rootless end to end: slirp4netns + rootlessport in the container's userns",
	() => {
		test("the unprivileged user's published port reaches the container, which sees 10.0.2.100", async () => {
			const user = testUser();
			if (!user) return;
			const { uid, gid, dir } = user;
			const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
			const ctr = Bun.spawn(
				["unshare", "-Urn", process.execPath, `${import.meta.dir}/../lib/peer-server.ts`, "8000"],
				{ uid, gid, env, stdout: "ignore", stderr: "ignore" },
			);
			const port = freePort();
			const stopped: boolean[] = [];
			let pids: { slirp?: number; rootlessport?: number; error?: string } = {};
			try {
				await waitUnshared(ctr.pid, 2000, 10);
				await Bun.sleep(300); // the server inside starts listening
				const runner = Bun.spawn(
					[
						process.execPath,
						`${import.meta.dir}/../lib/rootless-runner.ts`,
						String(ctr.pid),
						dir,
						String(port),
					],
					{ uid, gid, env, stdout: "pipe", stderr: "pipe" },
				);
				pids = JSON.parse(await new Response(runner.stdout).text());
				expect(pids.error).toBeUndefined();
				for (const pid of [pids.slirp, pids.rootlessport]) {
					const status = await Bun.file(`/proc/${pid}/status`).text();
					expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, "m"));
				}
				expect(await tcpExchange("127.0.0.1", port, "")).toBe("peer 10.0.2.100\n");
			} finally {
				// Clean up first, assert after: a failed expect here would leave helpers running.
				if (pids.rootlessport) stopped.push(await stopPid(pids.rootlessport));
				if (pids.slirp) stopped.push(await stopPid(pids.slirp));
				ctr.kill("SIGKILL");
				await ctr.exited;
				rmSync(dir, { recursive: true, force: true });
			}
			expect(stopped).toEqual([true, true]);
			for (const pid of [pids.slirp, pids.rootlessport])
				if (pid) expect(await waitGone(pid)).toBe(true);
			expect(await waitPortFree(port)).toBe(true);
		});
	},
);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));
