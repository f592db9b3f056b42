// Config loading, the plugin's environment and stdin, capability selection, the cache format.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import {
	buildEnv,
	buildPluginConfig,
	cnitoolContainerId,
	findNetwork,
	findPlugin,
	loadNetworks,
	parseCniArgs,
	parseConfigFile,
	parseResult,
	selectRuntimeConfig,
} from "../../src/cni";
import { cacheEntryJson, parseCacheText, readCache, writeCache } from "../../src/cni/cache";
import { pickListVersion } from "../../src/cni/version";

const CONFIGS = resolve(import.meta.dir, "../fixtures/cni-configs");
const PLUGIN_DIRS = [
	"/nonexistent",
	resolve(import.meta.dir, "../fixtures/cni-plugins"),
	"/usr/lib/cni",
];

describe("loading a config dir", () => {
	const { networks, errors } = loadNetworks(CONFIGS, PLUGIN_DIRS);
	const byFile = (suffix: string) => errors.filter((e) => e.file.endsWith(suffix));

	test("sorted file order, first name wins, .conf promoted, non-config files ignored", () => {
		expect([...networks.keys()]).toEqual(["t4-ptp", "t4-missing", "t4-versions", "podman"]);
		expect(networks.get("podman")?.file).toEndWith("87-podman-bridge.conflist");
		expect(byFile("90-dup-podman.conflist")[0]?.message).toContain("already defined");
		const ptp = networks.get("t4-ptp");
		expect(ptp?.plugins.map((p) => p.type)).toEqual(["ptp"]);
		expect(ptp?.cniVersion).toBe("0.4.0");
		expect(JSON.parse(ptp?.bytes ?? "").plugins[0].ipam.subnet).toBe("10.214.30.0/24");
	});

	test("a bad file is reported by name and field; the others load", () => {
		expect(byFile("30-t4-bad.conflist")[0]?.message).toMatch(/^plugins\.1\.type: /);
		expect(byFile("31-broken.conf")[0]?.message).toContain("invalid JSON");
		expect(byFile("41-t4-empty.conflist")[0]?.message).toContain("plugins");
		expect(networks.has("t4-bad")).toBe(false);
	});

	test("a missing plugin binary is reported with the dirs searched", () => {
		const e = byFile("40-t4-missing.conflist")[0];
		expect(e?.network).toBe("t4-missing");
		expect(e?.message).toBe(`plugin t4-no-such-plugin not found in ${PLUGIN_DIRS.join(":")}`);
	});

	test("cniVersions picks the highest supported version", () => {
		expect(networks.get("t4-versions")?.cniVersion).toBe("1.0.0");
		expect(pickListVersion("0.3.1", undefined)).toBe("0.3.1");
		expect(pickListVersion(undefined, undefined)).toBe("0.1.0");
	});

	test("podman v2's conflist loads as it is", () => {
		const p = networks.get("podman");
		expect(p?.cniVersion).toBe("0.4.0");
		expect(p?.plugins.map((x) => x.type)).toEqual(["bridge", "portmap", "firewall", "tuning"]);
		expect(p?.plugins[1]?.capabilities).toEqual({ portMappings: true });
	});

	test("findNetwork stops at the first match; a miss names the unreadable files", () => {
		expect(findNetwork(CONFIGS, "podman").file).toEndWith("87-podman-bridge.conflist");
		expect(() => findNetwork(CONFIGS, "t4-nope")).toThrow(/31-broken\.conf/);
	});

	test("a .conf without type hints at .conflist", () => {
		const out = parseConfigFile("x.conf", '{"name":"x","cniVersion":"0.4.0"}');
		expect(out.ok).toBe(false);
		if (!out.ok) expect(out.error).toContain("perhaps this is a .conflist?");
		const bad = parseConfigFile("x.conflist", '{"name":"a b","plugins":[{"type":"x"}]}');
		expect(bad.ok).toBe(false);
	});
});

describe("what a plugin is given", () => {
	const rt = {
		containerId: "abc",
		netns: "/run/netns/x",
		ifName: "eth0",
		args: [
			["IgnoreUnknown", "1"],
			["K8S_POD_NAME", "web"],
		] as [string, string][],
		capabilityArgs: {
			portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
			mac: "aa:bb:cc:dd:ee:ff",
		},
	};

	test("env: inherited, CNI variables last and authoritative", () => {
		const env = buildEnv("ADD", rt, ["/a", "/b"], { PATH: "/bin", CNI_COMMAND: "bogus", X: "1" });
		expect(env).toMatchObject({
			PATH: "/bin",
			X: "1",
			CNI_COMMAND: "ADD",
			CNI_CONTAINERID: "abc",
			CNI_NETNS: "/run/netns/x",
			CNI_IFNAME: "eth0",
			CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=web",
			CNI_PATH: "/a:/b",
		});
		const status = buildEnv("STATUS", undefined, ["/a"], {});
		expect(status.CNI_CONTAINERID).toBe("");
		expect(status.PATH).toBeString();
	});

	test("runtimeConfig holds only the capabilities the plugin declares true", () => {
		expect(selectRuntimeConfig({ portMappings: true, mac: false }, rt.capabilityArgs)).toEqual({
			portMappings: rt.capabilityArgs.portMappings,
		});
		expect(selectRuntimeConfig({ ips: true }, rt.capabilityArgs)).toBeUndefined();
		expect(selectRuntimeConfig(undefined, rt.capabilityArgs)).toBeUndefined();
	});

	test("stdin: name and cniVersion injected, prevResult in the list's version", () => {
		const list = { name: "net", cniVersion: "0.4.0" };
		const prev = parseResult({ cniVersion: "1.0.0", ips: [{ address: "10.0.0.2/24" }] });
		const conf = buildPluginConfig(
			list,
			{ type: "portmap", capabilities: { portMappings: true }, snat: true, name: "other" },
			prev,
			rt.capabilityArgs,
		);
		expect(conf).toEqual({
			type: "portmap",
			capabilities: { portMappings: true },
			snat: true,
			name: "net",
			cniVersion: "0.4.0",
			prevResult: { cniVersion: "0.4.0", ips: [{ version: "4", address: "10.0.0.2/24" }], dns: {} },
			runtimeConfig: { portMappings: rt.capabilityArgs.portMappings },
		});
		expect("prevResult" in buildPluginConfig(list, { type: "bridge" }, undefined, {})).toBe(false);
	});

	test("CNI_ARGS parsing is cnitool's, and cnitool's container ID", () => {
		expect(parseCniArgs("A=1;B=2")).toEqual([
			["A", "1"],
			["B", "2"],
		]);
		expect(() => parseCniArgs("A=1;B")).toThrow(/invalid CNI_ARGS pair "B"/);
		expect(() => parseCniArgs("A=")).toThrow();
		// `printf /run/netns/x | sha512sum | cut -c1-20`: cnitool's sha512(path)[:10] in hex
		expect(cnitoolContainerId("/run/netns/x")).toBe("cnitool-55e2cecc95014b0f7fc4");
	});
});

describe("result cache", () => {
	const list = { name: "net", cniVersion: "0.4.0", bytes: '{"name":"net"}' };
	const rt = { containerId: "c1", netns: "/run/netns/x", ifName: "eth0" };
	const result = parseResult({
		cniVersion: "0.4.0",
		ips: [{ version: "4", address: "10.0.0.2/24" }],
	});

	test("libcni's keys, order and omitempty; config as base64", () => {
		const json = JSON.parse(cacheEntryJson(list, rt, result));
		expect(Object.keys(json)).toEqual([
			"kind",
			"containerId",
			"config",
			"ifName",
			"networkName",
			"netns",
			"result",
		]);
		expect(json.kind).toBe("cniCacheV1");
		expect(Buffer.from(json.config, "base64").toString()).toBe(list.bytes);
		expect(json.result.ips[0].version).toBe("4");
	});

	test("written 0700/0600, read back; a bare result reads as legacy", () => {
		const dir = mkdtempSync(`${tmpdir()}/t4-cache-`);
		try {
			writeCache(dir, list, rt, result);
			expect(statSync(`${dir}/results`).mode & 0o777).toBe(0o700);
			expect(statSync(`${dir}/results/net-c1-eth0`).mode & 0o777).toBe(0o600);
			const read = readCache(dir, "net", rt);
			expect(read.kind).toBe("entry");
			if (read.kind === "entry") expect(read.config).toBe(list.bytes);
			expect(parseCacheText('{"cniVersion":"0.3.1","ips":[]}').kind).toBe("legacy");
			expect(parseCacheText("nope").kind).toBe("corrupt");
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe("a plugin type is a name, never a path (libcni's FindInPath)", () => {
	for (const type of ["../../../tmp/x", "/usr/bin/id", "sub/dir", "..", "."]) {
		test(JSON.stringify(type), () => {
			const text = JSON.stringify({ cniVersion: "1.0.0", name: "t", plugins: [{ type }] });
			const out = parseConfigFile("/x/t.conflist", text);
			expect(out.ok).toBe(false);
			if (!out.ok) expect(out.error).toContain("invalid plugin name");
			expect(findPlugin(type, PLUGIN_DIRS)).toBeUndefined();
		});
	}
	test("a plain name still resolves", () => {
		expect(findPlugin("bridge", ["/nonexistent", "/usr/lib/cni"])).toBe("/usr/lib/cni/bridge");
	});
});
