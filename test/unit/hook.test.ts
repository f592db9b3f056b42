// The OCI hook's pure parts: state and config.json parsing, annotations, the request it builds,
// stage names, hooks.d output, the hook's environment, injection into config.json, and the mark
// a failed setup leaves for its poststop.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { annotationsFromRaw, rawFromAnnotations } from "../../src/hook/annotations";
import { bundleNetns } from "../../src/hook/bundle";
import { hookEnv, hookPath } from "../../src/hook/env";
import { hookEntry, hooksDConfig, parseStages } from "../../src/hook/hooks-d";
import { injectHooks, isCtrnetEntry, type OciConfig } from "../../src/hook/inject";
import { parseLossless, stringifyDocument } from "../../src/hook/json";
import { clearFailed, markFailed, takeFailed } from "../../src/hook/marker";
import { hookSetupRequest } from "../../src/hook/request";
import { stageFromStatus } from "../../src/hook/stage";
import { type OciState, parseOciState } from "../../src/hook/state";

const state = (over: Partial<OciState> = {}): OciState => ({
	ociVersion: "1.0.2-dev",
	id: "c1",
	status: "creating",
	pid: 4242,
	bundle: "/b/c1",
	annotations: {},
	...over,
});
const own = { kind: "own" } as const;
const req = (s: OciState, ns: Parameters<typeof hookSetupRequest>[1] = own) =>
	hookSetupRequest(s, ns, "ctrnet", false, "slirp4netns");

describe("OCI state", () => {
	test("runc's createRuntime and poststop states parse", () => {
		const c = parseOciState(
			'{"ociVersion":"1.0.2-dev","id":"t6-exp1","status":"creating","pid":14107,"bundle":"/tmp/b","annotations":{"io.ctrnet.network":"x"}}',
		);
		expect(c).toMatchObject({ id: "t6-exp1", pid: 14107, status: "creating" });
		const p = parseOciState('{"ociVersion":"1.0.2-dev","id":"x","status":"stopped","bundle":"/b"}');
		expect(p.pid).toBeUndefined();
		expect(p.annotations).toEqual({});
	});

	test("bad documents name the field", () => {
		expect(() => parseOciState("")).toThrow(/not JSON/);
		expect(() => parseOciState('{"id":"x"}')).toThrow(/invalid OCI state on stdin: ociVersion/);
		expect(() =>
			parseOciState('{"ociVersion":"1","id":"x","status":"gone","bundle":"/b"}'),
		).toThrow(/status/);
		expect(() =>
			parseOciState('{"ociVersion":"1","id":"x","status":"stopped","bundle":"rel"}'),
		).toThrow(/bundle/);
	});

	test("stage from status (hook auto)", () => {
		expect(stageFromStatus("creating")).toBe("createRuntime");
		expect(stageFromStatus("created")).toBe("createRuntime");
		expect(stageFromStatus("stopped")).toBe("poststop");
		expect(() => stageFromStatus("running")).toThrow(/no stage ctrnet handles/);
	});
});

describe("config.json namespace", () => {
	test("own, joined path, or the host's", () => {
		expect(bundleNetns({ linux: { namespaces: [{ type: "pid" }, { type: "network" }] } })).toEqual(
			own,
		);
		expect(
			bundleNetns({ linux: { namespaces: [{ type: "network", path: "/run/netns/x" }] } }),
		).toEqual({ kind: "path", path: "/run/netns/x" });
		expect(bundleNetns({ linux: { namespaces: [{ type: "pid" }] } })).toEqual({ kind: "host" });
		expect(bundleNetns({})).toEqual({ kind: "host" });
	});
});

describe("annotations", () => {
	test("grammar: network keeps its commas, publish and alias split on commas", () => {
		const raw = rawFromAnnotations("c1", {
			"io.ctrnet.network": "b,a",
			"io.ctrnet.publish": "8080:80, 127.0.0.1:53:53/udp,",
			"io.ctrnet.alias": "web,www",
			"io.ctrnet.ip": " 10.1.0.5 ",
			"io.ctrnet.mac": "02:00:00:00:00:01",
			"io.ctrnet.name": "web1",
			"org.other": "ignored",
		});
		expect(raw).toEqual({
			id: "c1",
			name: "web1",
			networks: ["b,a"],
			ip: "10.1.0.5",
			mac: "02:00:00:00:00:01",
			publish: ["8080:80", "127.0.0.1:53:53/udp"],
			aliases: ["web", "www"],
		});
		expect(annotationsFromRaw(raw)).toMatchObject({
			"io.ctrnet.network": "b,a",
			"io.ctrnet.publish": "8080:80,127.0.0.1:53:53/udp",
		});
	});

	test("empty or missing network annotation: the default network", () => {
		expect(rawFromAnnotations("c1", { "io.ctrnet.network": "" }).networks).toEqual([]);
		expect(req(state())?.mode).toEqual({ mode: "bridge", networks: ["ctrnet"] });
	});

	test("slirp4netns options keep their commas", () => {
		const r = rawFromAnnotations("c1", {
			"io.ctrnet.network": "slirp4netns:mtu=9000,cidr=10.5.0.0/24",
		});
		expect(r.networks).toEqual(["slirp4netns:mtu=9000,cidr=10.5.0.0/24"]);
	});

	test("an unknown io.ctrnet.* key is refused", () => {
		expect(() => rawFromAnnotations("c1", { "io.ctrnet.port": "80" })).toThrow(
			/unknown annotation io.ctrnet.port/,
		);
	});
});

describe("the setup request", () => {
	test("own namespace: pinned from the pid, marked as the hook's", () => {
		const r = req(state({ annotations: { "io.ctrnet.network": "n1", "io.ctrnet.publish": "80" } }));
		expect(r?.netns).toEqual({ kind: "pid", pid: 4242 });
		expect(r?.hook).toEqual({ bundle: "/b/c1", pid: 4242 });
		expect(r?.ports).toHaveLength(1);
		expect(r?.name).toBe("c1");
	});

	test("a namespace config.json joins: used as a path, not owned", () => {
		const r = req(state(), { kind: "path", path: "/run/netns/pre" });
		expect(r?.netns).toEqual({ kind: "path", path: "/run/netns/pre" });
	});

	test("bad values are reported with the annotation's name", () => {
		expect(() => req(state({ annotations: { "io.ctrnet.publish": "99999" } }))).toThrow(
			/invalid io.ctrnet.publish "99999"/,
		);
		expect(() => req(state({ annotations: { "io.ctrnet.mac": "zz" } }))).toThrow(/MAC/);
		expect(() => req(state({ id: "bad/id" }))).toThrow(/invalid container ID/);
	});

	test("host: nothing to do in the host's namespace, refused in a namespace of its own", () => {
		const host = state({ annotations: { "io.ctrnet.network": "host" } });
		expect(req(host, { kind: "host" })).toBeNull();
		expect(() => req(host)).toThrow(/network namespace of its own/);
	});

	test("ns:, container: and a container without its own namespace are refused", () => {
		expect(() => req(state({ annotations: { "io.ctrnet.network": "ns:/x" } }))).toThrow(
			/cannot be done by a hook/,
		);
		expect(() => req(state({ annotations: { "io.ctrnet.network": "container:c0" } }))).toThrow(
			/cannot be done by a hook/,
		);
		expect(() => req(state(), { kind: "host" })).toThrow(/shares the host's network namespace/);
	});

	test("no pid: not a setup stage", () => {
		expect(() => req(state({ pid: undefined, status: "stopped" }))).toThrow(/has no pid/);
	});
});

describe("hooks.d and the hook's environment", () => {
	test("two stages: one command that derives its stage from the status", () => {
		const c = hooksDConfig("/usr/bin/ctrnet", parseStages(undefined), ["PATH=/bin"]);
		expect(c).toEqual({
			version: "1.0.0",
			hook: {
				path: "/usr/bin/ctrnet",
				args: ["/usr/bin/ctrnet", "hook", "auto"],
				env: ["PATH=/bin"],
			},
			when: { annotations: { "^io\\.ctrnet\\.network$": ".*" } },
			stages: ["createRuntime", "poststop"],
		});
		expect(
			new RegExp(Object.keys((c.when as { annotations: object }).annotations)[0] as string).test(
				"io.ctrnet.network",
			),
		).toBe(true);
	});

	test("one stage: the stage in the args, and a timeout", () => {
		const c = hooksDConfig("/b/ctrnet", parseStages("prestart"), [], 10);
		expect(c.hook).toEqual({
			path: "/b/ctrnet",
			args: ["/b/ctrnet", "hook", "prestart"],
			env: [],
			timeout: 10,
		});
	});

	test("--stages checks", () => {
		expect(parseStages("poststop, createRuntime,poststop")).toEqual(["poststop", "createRuntime"]);
		expect(() => parseStages("createRuntime,prestart")).toThrow(/pick one/);
		expect(() => parseStages("poststart")).toThrow(/invalid stage/);
		expect(() => parseStages(",")).toThrow(/at least one/);
	});

	test("env: PATH with sbin, the options that were set, --env last", () => {
		expect(hookPath("/opt/x:/usr/bin")).toBe(
			"/opt/x:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin",
		);
		const env = hookEnv(
			{ root: "/flag/root" },
			{
				PATH: "/bin",
				CTRNET_ROOT: "/env/root",
				CTRNET_NETNS_DIR: "/ns",
				CTRNET_FORMAT: "json",
				HOME: "/h",
			},
			["CTRNET_LOG_LEVEL=debug", "X=a=b"],
		);
		expect(env).toEqual([
			"PATH=/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin",
			"CTRNET_ROOT=/flag/root",
			"CTRNET_NETNS_DIR=/ns",
			"CTRNET_LOG_LEVEL=debug",
			"X=a=b",
		]);
		expect(() => hookEnv({}, {}, ["=x"])).toThrow(/NAME=VALUE/);
	});
});

describe("inject", () => {
	const entries = {
		createRuntime: hookEntry("/bin/ctrnet", "createRuntime", []),
		poststop: hookEntry("/bin/ctrnet", "poststop", []),
	};
	const other = { path: "/bin/other", args: ["other"] };

	test("adds setup first and teardown last, keeping other hooks and keys", () => {
		const cfg = {
			ociVersion: "1.0.2",
			hooks: { createRuntime: [other], poststop: [other], prestart: [other] },
		};
		const out = injectHooks(cfg as OciConfig, entries, { "io.ctrnet.network": "n" });
		expect(out.hooks?.createRuntime).toEqual([entries.createRuntime, other]);
		expect(out.hooks?.poststop).toEqual([other, entries.poststop]);
		expect(out.hooks?.prestart).toEqual([other]);
		expect(out.annotations).toEqual({ "io.ctrnet.network": "n" });
		expect(Object.keys(out)).toEqual(["ociVersion", "hooks", "annotations"]);
	});

	test("idempotent: an existing ctrnet entry is replaced in place, duplicates dropped", () => {
		const old = hookEntry("/old/ctrnet", "createRuntime", ["A=1"]);
		const cfg = {
			hooks: { createRuntime: [other, old, hookEntry("/x", "auto", [])] },
		} as OciConfig;
		const once = injectHooks(cfg, entries, {});
		expect(once.hooks?.createRuntime).toEqual([other, entries.createRuntime]);
		expect(injectHooks(once, entries, {})).toEqual(once);
		expect(isCtrnetEntry(other, "createRuntime")).toBe(false);
	});

	test("config.json round trip keeps integers beyond 2^53", () => {
		const text = '{"linux":{"resources":{"memory":{"limit":18446744073709551615}},"x":[1.5,-3]}}';
		expect(stringifyDocument(parseLossless(text))).toBe(
			`${JSON.stringify(JSON.parse(text.replace("18446744073709551615", "0")), null, "\t").replace('"limit": 0', '"limit": 18446744073709551615')}\n`,
		);
	});
});

describe("the failed-setup mark", () => {
	test("taken once, only for the same bundle; cleared by a new setup", () => {
		const dir = mkdtempSync(`${tmpdir()}/t6-mark-`);
		try {
			const mark = { id: "c1", bundle: "/b1", pid: 5, error: "boom", leftover: false, time: "t" };
			markFailed(dir, mark);
			expect(takeFailed(dir, "c1", "/b2")).toBeUndefined();
			expect(takeFailed(dir, "c1", "/b1")).toEqual(mark);
			expect(takeFailed(dir, "c1", "/b1")).toBeUndefined();
			markFailed(dir, mark);
			clearFailed(dir, "c1");
			expect(takeFailed(dir, "c1", "/b1")).toBeUndefined();
			expect(readdirSync(`${dir}/hook-failed`)).toEqual([]);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
