// Rootless podman 4.3.1 with ctrnet as both `netavark` and `rootlessport`: a throwaway user with
// subordinate IDs (made here, deleted at the end) runs `podman run --network bridge -p`. Podman
// then runs netavark as uid 0 of the user's namespace inside its rootless netns, with --config
// under the user's run dir, and ctrnet's rootlessport forwards the host port to the container's
// address on the bridge. Container DNS on a user network works there too.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { networkHash } from "../../src/firewall/iptables/layout";
import { have, requireBinary } from "../lib/cli";
import { must, sh } from "../lib/host";
import {
	busyboxTarball,
	curl,
	helperDir,
	hostPortsInUse,
	IMAGE,
	podmanRunner,
	RUN_LIMITS,
	removeDir,
	web,
} from "../lib/podman";

const ok = have(
	[
		"podman",
		"runc",
		"conmon",
		"runuser",
		"useradd",
		"userdel",
		"usermod",
		"newuidmap",
		"slirp4netns",
		"curl",
	],
	true,
);

const TAG = randomBytes(2).toString("hex");
const USER = `tnvrl${TAG}`;
const HOME = `/home/${USER}`;
/** A host port below the ephemeral range that no socket on the host uses. */
function freePort(): number {
	const used = hostPortsInUse("-Htuan");
	for (;;) {
		const p = 20000 + Math.floor(Math.random() * 12000);
		if (!used.has(p)) return p;
	}
}
const PORT = freePort();
const NET = `tnv-rl${TAG}`;

let helpers = "";
let image = { dir: "", tar: "" };
let uid = -1;
let podman: ReturnType<typeof podmanRunner>;
const subidsBefore = { uid: "", gid: "" };

/** A subordinate range above every range the host has handed out. */
function freeSubidStart(): number {
	let end = 300000;
	for (const file of ["/etc/subuid", "/etc/subgid"]) {
		for (const line of readFileSync(file, "utf8").split("\n")) {
			const [, start, count] = line.split(":");
			if (start && count) end = Math.max(end, Number(start) + Number(count));
		}
	}
	return end;
}

function userPids(): number[] {
	return sh(["ps", "-u", String(uid), "-o", "pid=,stat="])
		.out.split("\n")
		.map((l) => l.trim().split(/\s+/))
		.filter(([pid, stat]) => pid && !stat?.startsWith("Z"))
		.map(([pid]) => Number(pid));
}

function runDir(): string {
	return `/tmp/podman-run-${uid}`;
}

async function inRootlessNetns(cmd: string): Promise<string> {
	const r = await podman(["unshare", "--rootless-netns", "sh", "-c", cmd]);
	return r.out + r.err;
}

/** The user's podman state, its processes (podman's pause process, slirp4netns), the user. */
async function resetAndRemoveUser(): Promise<void> {
	await podman(["system", "reset", "-f"]);
	removeUser();
}

function removeUser(): void {
	for (const pid of userPids()) process.kill(pid, "SIGKILL");
	// SIGKILL is delivered asynchronously: wait until they are gone (or zombies).
	for (let i = 0; i < 200 && userPids().length > 0; i++) Bun.sleepSync(10);
	sh(["userdel", "-r", USER]);
	rmSync(runDir(), { recursive: true, force: true });
}

describe.skipIf(!ok)("rootless podman 4.3 with ctrnet as netavark and rootlessport", () => {
	beforeAll(async () => {
		requireBinary();
		subidsBefore.uid = readFileSync("/etc/subuid", "utf8");
		subidsBefore.gid = readFileSync("/etc/subgid", "utf8");
		const start = freeSubidStart();
		const range = `${start}-${start + 65535}`;
		for (const cmd of [
			["useradd", "--create-home", "--shell", "/bin/sh", USER],
			["usermod", "--add-subuids", range, "--add-subgids", range, USER],
		])
			must(cmd);
		uid = Number(sh(["id", "-u", USER]).out.trim());
		helpers = helperDir(["netavark", "rootlessport"]);
		image = busyboxTarball();
		podman = podmanRunner(helpers, { name: USER, home: HOME });
		await podman(["import", image.tar, IMAGE], { check: true });
	});

	afterAll(async () => {
		if (uid >= 0 && sh(["id", USER]).code === 0) {
			await podman(["system", "reset", "-f"]);
			removeUser();
		}
		removeDir(helpers);
		removeDir(image.dir);
	});

	test("run --network bridge -p: the page is served on 127.0.0.1 through ctrnet's rootlessport", async () => {
		const r = await podman([
			"run",
			"-d",
			"--name",
			`tnv-rl-web-${TAG}`,
			"--network",
			"bridge",
			"-p",
			`${PORT}:80`,
			...RUN_LIMITS,
			IMAGE,
			...web("hello-rootless"),
		]);
		expect(r.code).toBe(0);
		let page = "";
		for (let i = 0; i < 50 && page === ""; i++) {
			page = curl(`http://127.0.0.1:${PORT}/`);
			if (page === "") await Bun.sleep(100);
		}
		expect(page).toBe("hello-rootless\n");
		// The forwarder is ctrnet, run by podman as `rootlessport` from the helper dir.
		const forwarders = userPids().filter((pid) => {
			try {
				return readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("rootlessport");
			} catch {
				return false;
			}
		});
		expect(forwarders.length).toBeGreaterThanOrEqual(1);
		expect(readlinkSync(`/proc/${forwarders[0]}/exe`)).toBe(`${helpers}/rootlessport`);
		// netavark ran inside the rootless netns: netavark's chains (the default iptables driver)
		// are there, with the port, and ctrnet's own table is not.
		const nat = await inRootlessNetns("iptables -t nat -S");
		expect(nat).toMatch(
			new RegExp(
				`-A NETAVARK-DN-${networkHash("podman")} -p tcp -m tcp --dport ${PORT} -j DNAT --to-destination 10\\.88\\.\\d+\\.\\d+:80`,
			),
		);
		expect(await inRootlessNetns("nft list tables")).not.toContain("inet ctrnet");
		expect(existsSync(`${runDir()}/containers/networks/ctrnet-locks/podman.lock`)).toBe(true);
	});

	test("a user network with DNS: containers resolve each other through aardvark-dns", async () => {
		await podman(["network", "create", NET], { check: true });
		const a = await podman([
			"run",
			"-d",
			"--name",
			`tnv-rl-a-${TAG}`,
			"--network",
			NET,
			...RUN_LIMITS,
			IMAGE,
			"/bin/busybox",
			"sleep",
			"600",
		]);
		expect(a.code).toBe(0);
		const q = await podman([
			"run",
			"--rm",
			"--network",
			NET,
			...RUN_LIMITS,
			IMAGE,
			"/bin/busybox",
			"nslookup",
			`tnv-rl-a-${TAG}`,
		]);
		expect(q.out).toMatch(/Address: 10\.89\.\d+\.\d+/);
		expect(readFileSync(`${runDir()}/containers/networks/aardvark-dns/${NET}`, "utf8")).toContain(
			`tnv-rl-a-${TAG}`,
		);
	});

	test("after rm of every container and the network, the rootless netns has nothing of them", async () => {
		expect((await podman(["rm", "-f", "-t", "0", "-a"])).code).toBe(0);
		expect((await podman(["network", "rm", NET])).code).toBe(0);
		const state = await inRootlessNetns(
			"nft list tables; iptables -t nat -S; iptables -S; ip -o link show; echo; ls -A " +
				`${runDir()}/containers/networks/aardvark-dns`,
		);
		// Only netavark's base stays (as netavark leaves it): no chain of the network's own.
		expect(state).not.toContain(`NETAVARK-${networkHash("podman")}`);
		expect(state).not.toContain(`NETAVARK-DN-${networkHash("podman")}`);
		expect(state).not.toContain("10.88.");
		expect(state).not.toContain("inet ctrnet");
		expect(state).not.toContain("podman0");
		expect(state).not.toContain("veth");
		expect(state).not.toContain(NET);
		// Stopped (a zombie until PID 1 reaps it, which this host's init does late).
		const aardvark = userPids().filter((pid) => {
			try {
				return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "aardvark-dns";
			} catch {
				return false;
			}
		});
		expect(aardvark).toEqual([]);
	});

	test("once podman is reset and the user deleted, nothing of it is left on the host", async () => {
		// Nothing of ctrnet's runs for the user any more: no forwarder, no aardvark-dns.
		const ctrnet = userPids().filter((pid) => {
			try {
				return readlinkSync(`/proc/${pid}/exe`).startsWith(helpers);
			} catch {
				return false;
			}
		});
		expect(ctrnet).toEqual([]);
		await resetAndRemoveUser();
		expect(userPids()).toEqual([]);
		expect(readFileSync("/etc/subuid", "utf8")).toBe(subidsBefore.uid);
		expect(readFileSync("/etc/subgid", "utf8")).toBe(subidsBefore.gid);
		expect(existsSync(HOME)).toBe(false);
		expect(existsSync(runDir())).toBe(false);
	});
});
