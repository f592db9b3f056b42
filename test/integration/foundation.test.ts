// The compiled binary's frame: version, info, the error model, the ffi layer, argv0 dispatch.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { BIN, ctrnet, requireBinary } from "../lib/cli";

beforeAll(requireBinary);

describe("version and info", () => {
	test("version --format json parses", async () => {
		const r = await ctrnet(["version", "--format", "json"]);
		expect(r.code).toBe(0);
		const v = JSON.parse(r.stdout);
		expect(v.version).toMatch(/^\d+\.\d+\.\d+/);
		expect(v.bun).toBe(Bun.version);
		expect(r.stderr).toBe("");
	});

	test("global options are accepted before the command too", async () => {
		const r = await ctrnet(["--format=json", "version"]);
		expect(JSON.parse(r.stdout).version).toBeString();
	});

	test("info --format json is truthful", async () => {
		const r = await ctrnet(["info", "--format", "json"], { env: { CNI_PATH: "/usr/lib/cni" } });
		expect(r.code).toBe(0);
		const info = JSON.parse(r.stdout);
		expect(info.rootless).toBe(process.geteuid?.() !== 0);
		expect(info.paths.cniPluginDirs).toEqual(["/usr/lib/cni"]);
		expect(info.cni.plugins.length).toBeGreaterThan(0);
		for (const p of info.cni.plugins) {
			expect(existsSync(p.path)).toBe(true);
			expect(p.path.startsWith("/usr/lib/cni/")).toBe(true);
		}
		const bridge = info.cni.plugins.find((p: { name: string }) => p.name === "bridge");
		expect(bridge?.versions).toContain("0.4.0");
		expect(info.kernel).toBe(require("node:os").release());
		if (Bun.which("slirp4netns")) {
			expect(info.slirp4netns.path).toBe(Bun.which("slirp4netns"));
			expect(info.slirp4netns.features).toContain("--mtu");
		}
		expect(["nf_tables", "legacy"]).toContain(info.iptables.backend);
		// this namespace's truth, as x_tables lists it
		const names = existsSync("/proc/net/ip_tables_names")
			? readFileSync("/proc/net/ip_tables_names", "utf8")
			: "";
		expect(info.iptables.legacyFilterLoaded).toBe(names.split("\n").includes("filter"));
	});

	test("info honours --cni-plugin-dir over CNI_PATH, and env for paths", async () => {
		const r = await ctrnet(["info", "--format", "json", "--cni-plugin-dir", "/nonexistent"], {
			env: { CNI_PATH: "/usr/lib/cni", CTRNET_ROOT: "/tmp/x-root" },
		});
		const info = JSON.parse(r.stdout);
		expect(info.cni.plugins).toEqual([]);
		expect(info.paths.root).toBe("/tmp/x-root");
	});
});

describe("errors", () => {
	const oneLine = (stderr: string) => {
		const lines = stderr.trimEnd().split("\n");
		expect(lines).toHaveLength(1);
		expect(lines[0]).toStartWith("Error: ");
		expect(stderr).not.toContain("    at ");
	};

	test("unknown flag: exit 125, one line, no stack", async () => {
		const r = await ctrnet(["info", "--bogus"]);
		expect(r.code).toBe(125);
		oneLine(r.stderr);
		expect(r.stderr).toContain("--bogus");
		expect(r.stdout).toBe("");
	});

	test("bad --log-level: exit 125, one line", async () => {
		for (const args of [
			["--log-level", "loud", "version"],
			["version", "--log-level=loud"],
		]) {
			const r = await ctrnet(args);
			expect(r.code).toBe(125);
			oneLine(r.stderr);
			expect(r.stderr).toContain("--log-level");
		}
	});

	test("bad CTRNET_LOG_LEVEL from the environment too", async () => {
		const r = await ctrnet(["info"], { env: { CTRNET_LOG_LEVEL: "chatty" } });
		expect(r.code).toBe(125);
		oneLine(r.stderr);
	});

	test("unknown command and bad --format", async () => {
		const a = await ctrnet(["frobnicate"]);
		expect(a.code).toBe(125);
		oneLine(a.stderr);
		const b = await ctrnet(["version", "--format", "yaml"]);
		expect(b.code).toBe(125);
		oneLine(b.stderr);
	});

	test("the stack appears only at --log-level debug", async () => {
		const r = await ctrnet(["info", "--bogus", "--log-level", "debug"]);
		expect(r.code).toBe(125);
		expect(r.stderr.split("\n")[0]).toStartWith("Error: unknown flag");
		expect(r.stderr).toContain("at ");
	});

	test("--help lists only the commands that exist and exits 0", async () => {
		const r = await ctrnet(["--help"]);
		expect(r.code).toBe(0);
		expect(r.stdout).toContain("version");
		expect(r.stdout).toContain("info");
		expect(r.stdout).not.toContain("\u001b[");
	});
});

describe("ffi", () => {
	test("setns on a closed fd fails with EBADF by name", async () => {
		const { setns, CLONE_NEWNET } = await import("../../ffi/libc");
		const { SysError } = await import("../../ffi/errno");
		let caught: unknown;
		try {
			setns(987654, CLONE_NEWNET);
		} catch (e) {
			caught = e;
		}
		expect(caught).toBeInstanceOf(SysError);
		expect((caught as InstanceType<typeof SysError>).code).toBe("EBADF");
		expect((caught as Error).message).toContain("setns");
	});

	test("open of a missing file is ENOENT, and a good call leaves no stale errno", async () => {
		const { open, close, O_RDONLY } = await import("../../ffi/libc");
		expect(() => open("/nonexistent/x", O_RDONLY)).toThrow(/ENOENT/);
		const fd = open("/proc/self/ns/net", O_RDONLY);
		expect(fd).toBeGreaterThan(2);
		close(fd);
		expect(() => close(fd)).toThrow(/EBADF/);
	});
});

describe("rootlessport dispatch", () => {
	test("argv0 rootlessport reaches the forwarder, not the CLI", async () => {
		for (const argv0 of ["rootlessport", "containers-rootlessport"]) {
			const r = await ctrnet(["version"], { argv0, stdin: "not json" });
			expect(r.code).toBe(1);
			expect(r.stdout).toStartWith("rootlessport");
			expect(r.stdout).not.toContain("ctrnet version");
		}
	});

	test("a symlink named rootlessport reaches it too, and so does `ctrnet rootlessport`", async () => {
		const dir = mkdtempSync(`${tmpdir()}/ctrnet-rlp-`);
		try {
			symlinkSync(BIN, `${dir}/rootlessport`);
			const viaLink = await ctrnet([], { exe: `${dir}/rootlessport`, stdin: "{" });
			expect(viaLink.code).toBe(1);
			expect(viaLink.stdout).toStartWith("rootlessport");
			const viaArg = await ctrnet(["rootlessport"], { stdin: "{" });
			expect(viaArg.code).toBe(1);
			expect(viaArg.stdout).toStartWith("rootlessport");
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
