// `--network pasta:…`: the grammar, what ctrnet reads from pasta's options, what it refuses
// before anything starts, the rootless default, and the error text pasta's output becomes.
import { describe, expect, test } from "bun:test";
import { resolveConfig } from "../../src/config/resolve";
import { parseNetworkSpecs } from "../../src/container/network-spec";
import { parseSetup } from "../../src/container/request";
import { pastaMessage } from "../../src/helpers/pasta";
import { hookSetupRequest } from "../../src/hook/request";
import { dpkgPackage, parsePastaVersion } from "../../src/pasta/detect";
import {
	checkPublishConflicts,
	PastaOptionError,
	parsePastaOptions,
	specHostPorts,
} from "../../src/pasta/options";
import type { PortRequest } from "../../src/ports/schema";

describe("--network grammar", () => {
	const p = (v: string[], rootless = false) =>
		parseNetworkSpecs(v, "ctrnet", rootless, "slirp4netns");
	test("pasta, with options: every comma starts another argument (podman)", () => {
		expect(p(["pasta"])).toEqual({ mode: "pasta", options: [] });
		expect(p(["pasta:"])).toEqual({ mode: "pasta", options: [] });
		expect(p(["pasta:-t,8080,--map-gw,-I,eth7"])).toEqual({
			mode: "pasta",
			options: ["-t", "8080", "--map-gw", "-I", "eth7"],
		});
	});
	test("pasta stands alone; a network called pastafarian is a network", () => {
		expect(() => p(["pasta", "a"])).toThrow(/cannot be combined/);
		expect(() => p(["a,pasta"])).toThrow(/cannot be combined/);
		expect(p(["pastafarian"])).toEqual({ mode: "bridge", networks: ["pastafarian"] });
	});
	test("the rootless default: slirp4netns unless pasta is configured; root unchanged", () => {
		expect(p([], true)).toEqual({ mode: "slirp4netns", options: [] });
		expect(parseNetworkSpecs([], "ctrnet", true, "pasta")).toEqual({ mode: "pasta", options: [] });
		expect(parseNetworkSpecs(["default"], "ctrnet", true, "pasta").mode).toBe("pasta");
		expect(parseNetworkSpecs([], "ctrnet", false, "pasta")).toEqual({
			mode: "bridge",
			networks: ["ctrnet"],
		});
	});
	test("setup: pasta takes --publish and --pid, not --ip or --alias", () => {
		const raw = { id: "c", networks: ["pasta"], publish: ["8080:80"], aliases: [], pid: "9" };
		expect(parseSetup(raw, "ctrnet", true, "slirp4netns")).toMatchObject({
			mode: { mode: "pasta" },
			netns: { kind: "pid", pid: 9 },
			ports: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
		});
		expect(() => parseSetup({ ...raw, ip: "10.0.0.2" }, "ctrnet", false, "slirp4netns")).toThrow(
			/--ip and --mac need a network, not --network pasta/,
		);
		expect(() => parseSetup({ ...raw, aliases: ["x"] }, "ctrnet", false, "slirp4netns")).toThrow(
			/--alias needs a network, not --network pasta/,
		);
		const noNet = { id: "c", networks: [], publish: [], aliases: [] };
		expect(parseSetup(noNet, "ctrnet", true, "pasta").mode.mode).toBe("pasta");
	});
	test("the hook's io.ctrnet.network uses the same grammar and default", () => {
		const state = {
			ociVersion: "1.0.2",
			id: "c",
			status: "created" as const,
			pid: 5,
			bundle: "/b",
			annotations: { "io.ctrnet.network": "pasta:-I,eth7", "io.ctrnet.publish": "8080:80" },
		};
		const own = { kind: "own" } as const;
		expect(hookSetupRequest(state, own, "ctrnet", true, "slirp4netns")?.mode).toEqual({
			mode: "pasta",
			options: ["-I", "eth7"],
		});
		const bare = { ...state, annotations: {} };
		expect(hookSetupRequest(bare, own, "ctrnet", true, "pasta")?.mode.mode).toBe("pasta");
	});
	test("--rootless-network / CTRNET_ROOTLESS_NETWORK", () => {
		const id = { euid: 1000, uid: 1000, home: "/home/u" };
		expect(resolveConfig({}, {}, id).rootlessNetwork).toBe("slirp4netns");
		expect(resolveConfig({}, { CTRNET_ROOTLESS_NETWORK: "pasta" }, id).rootlessNetwork).toBe(
			"pasta",
		);
		expect(
			resolveConfig({ rootlessNetwork: "slirp4netns" }, { CTRNET_ROOTLESS_NETWORK: "pasta" }, id)
				.rootlessNetwork,
		).toBe("slirp4netns");
		expect(() => resolveConfig({ rootlessNetwork: "vde" }, {}, id)).toThrow(
			/invalid --rootless-network \(CTRNET_ROOTLESS_NETWORK\) "vde"/,
		);
	});
});

describe("pasta's options", () => {
	test("what podman reads: -t/-u specs, -T/-U, --dns-forward, --map-gw, debug, --runas", () => {
		const o = parsePastaOptions([
			"-t",
			"9090",
			"--udp-ports=53",
			"-T",
			"auto",
			"--dns-forward",
			"10.0.0.53",
			"--map-gw",
			"--trace",
			"--runas",
			"1000",
		]);
		expect(o).toEqual({
			args: [
				"-t",
				"9090",
				"--udp-ports=53",
				"-T",
				"auto",
				"--dns-forward",
				"10.0.0.53",
				"--trace",
				"--runas",
				"1000",
			],
			mapGw: true,
			tcp: ["9090"],
			udp: ["53"],
			tcpNs: true,
			udpNs: false,
			dnsForward: ["10.0.0.53"],
			debug: true,
			runas: true,
		});
	});
	test("options ctrnet sets itself are refused, with the reason", () => {
		for (const [opt, why] of [
			[["--netns", "/x"], /^pasta option "--netns" cannot be given: ctrnet gives pasta/],
			[["--userns=/x"], /^pasta option "--userns" cannot be given/],
			[["-P", "/tmp/p"], /^pasta option "-P" cannot be given: ctrnet reads pasta's pid/],
			[["--pid", "/tmp/p"], /"--pid"/],
			[["-f"], /^pasta option "-f" cannot be given: pasta must go to the background/],
			[["--version"], /makes pasta exit/],
		] as const) {
			expect(() => parsePastaOptions([...opt])).toThrow(why);
		}
		expect(() => parsePastaOptions(["--netns"])).toThrow(PastaOptionError);
	});
	test("anything else is pasta's to judge", () => {
		expect(parsePastaOptions(["--bogus", "-m", "abc"]).args).toEqual(["--bogus", "-m", "abc"]);
	});
});

describe("--publish against pasta's own -t/-u", () => {
	const req = (hostPort: number, count = 1, protocol: "tcp" | "udp" = "tcp"): PortRequest => ({
		hostIP: "",
		hostPort,
		containerPort: 80,
		count,
		protocol,
	});
	const check = (user: string[], ports: PortRequest[]) =>
		checkPublishConflicts(parsePastaOptions(user), ports);

	test("the host ports of a spec", () => {
		expect(specHostPorts("8080")).toEqual({ first: 8080, last: 8080 });
		expect(specHostPorts("8080-8090:80-90")).toEqual({ first: 8080, last: 8090 });
		expect(specHostPorts("127.0.0.1/22")).toEqual({ first: 22, last: 22 });
		expect(specHostPorts("::1/22:23")).toEqual({ first: 22, last: 22 });
		expect(specHostPorts("~25")).toBe("none");
		for (const m of ["none", "auto", "all"]) expect(specHostPorts(m)).toBe("mode");
		expect(specHostPorts("22,25")).toBeUndefined();
	});
	test("the same host port twice is refused, naming both", () => {
		expect(() => check(["-t", "8080"], [req(8080)])).toThrow(
			'host port 8080/tcp is published with --publish and forwarded by the pasta option "-t 8080" too: give it once',
		);
		expect(() => check(["--tcp-ports=8000-8100"], [req(8099, 5)])).toThrow(/host port 8099\/tcp/);
		expect(() => check(["-u", "5353"], [req(5350, 4, "udp")])).toThrow(/5353\/udp/);
	});
	test("none/auto/all for a protocol that has published ports is refused", () => {
		expect(() => check(["-t", "none"], [req(8080)])).toThrow(
			'--publish forwards tcp ports, which the pasta option "-t none" contradicts: drop one of them',
		);
		expect(() => check(["-u", "auto"], [req(53, 1, "udp")])).toThrow(/"-u auto"/);
	});
	test("no collision: other ports, other protocols, ports still to be chosen", () => {
		expect(() => check(["-t", "9090"], [req(8080)])).not.toThrow();
		expect(() => check(["-t", "8080"], [req(8080, 1, "udp")])).not.toThrow();
		expect(() => check(["-t", "none"], [req(53, 1, "udp")])).not.toThrow();
		expect(() => check(["-t", "8080"], [req(0)])).not.toThrow();
		expect(() => check(["-T", "8080"], [req(8080)])).not.toThrow();
	});
});

describe("pasta's output and identity", () => {
	test("one line: syslog noise and the usage text dropped", () => {
		const out = [
			"Failed to send 51 bytes to syslog",
			"/usr/bin/pasta: unrecognized option '--bogus'",
			"Failed to send 35 bytes to syslog",
			"Usage: pasta [OPTION]... [COMMAND] [ARGS]...",
			"  -d, --debug		Be verbose",
		].join("\n");
		expect(pastaMessage(out)).toBe("/usr/bin/pasta: unrecognized option '--bogus'");
		expect(
			pastaMessage("No external routable interface for IPv6\nOverlapping port specifier 8080\n"),
		).toBe("No external routable interface for IPv6; Overlapping port specifier 8080");
	});
	test("version and package", () => {
		expect(parsePastaVersion("pasta unknown version\nCopyright Red Hat\n")).toBe("unknown version");
		expect(parsePastaVersion("pasta 2024_08_21.1d6142f\n")).toBe("2024_08_21.1d6142f");
		const status = [
			"Package: passwd\nStatus: install ok installed\nVersion: 1:4.13\nArchitecture: amd64",
			"Package: passt\nStatus: install ok installed\nArchitecture: amd64\nVersion: 0.0~git20230309.7c7625d-1",
		].join("\n\n");
		expect(dpkgPackage(status, "passt")).toBe("passt_0.0~git20230309.7c7625d-1_amd64");
		expect(
			dpkgPackage(status.replace("ok installed\nArch", "ok config-files\nArch"), "passt"),
		).toBe("");
	});
});
