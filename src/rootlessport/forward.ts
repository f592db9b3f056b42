// The forwarder's life: listen on every mapping, say "ready", run until told to stop.
// Contract (podman's rootlessport): `1` on ReadyFD (then closed) once every port listens; exit 0
// when ExitFD reaches EOF or on SIGTERM/SIGINT, with every listener closed; on failure one line
// on stdout (the caller reports it as `rootlessport <line>`) and exit 1. With RootlessCNI, the
// reload socket TmpDir/rp/<ContainerID> is served from before ready until the exit.
import { closeSync, mkdirSync, readFileSync, statSync, writeSync } from "node:fs";
import { writeErr, writeOut } from "../io";
import type { Forward, RootlessportConfig } from "./config";
import { FlowTable } from "./flows";
import { type Caps, capsFor, MAX_TCP_CONNS, MAX_UDP_FLOWS, openFilesLimit } from "./limits";
import { errorCode, listenErrorLine } from "./listen-error";
import { boundedLog, LOG_LIMITS, type Log } from "./log";
import { fixedTarget, type Target } from "./target";
import type { ConnCount } from "./tcp";
import type { UdpFlow } from "./udp";

function writeErrQuietly(text: string): void {
	try {
		writeErr(text);
	} catch {
		// stderr gone (the log file's reader does not matter to the forwarding): keep going.
	}
}

function readText(path: string): string {
	try {
		return readFileSync(path, "utf8");
	} catch {
		return "";
	}
}

function unprivilegedPortStart(): number {
	const n = Number.parseInt(readText("/proc/sys/net/ipv4/ip_unprivileged_port_start"), 10);
	return Number.isFinite(n) ? n : 1024;
}

/** VmRSS for the debug log: the forwarder lives long and has a memory budget. */
function rss(): string {
	return /VmRSS:\s*(\d+ kB)/.exec(readText("/proc/self/status"))?.[1] ?? "?";
}

interface Closable {
	close(): void;
}

type Listen = (f: Forward) => Closable | Promise<Closable>;
type Engine = "splice" | "js";

/** Everything the listeners share: where they dial, what they may hold, where they log. */
interface Shared {
	target: Target;
	log: Log;
	flows: FlowTable<UdpFlow>;
	conns: ConnCount;
}

/** What decides the data paths, read once from the config and the environment. */
interface Asked {
	/** CTRNET_ROOTLESSPORT_ENGINE=js: the Bun.listen/Bun.connect TCP path, splice or not. */
	js: boolean;
	/** Some mapping is TCP. */
	tcp: boolean;
}

/**
 * Loads ffi/pump (the native side) when something needs it: the TCP splice path, or the rootless
 * CNI reload socket. null when not needed; the reason when it cannot be loaded.
 */
async function loadNative(
	cfg: RootlessportConfig,
	asked: Asked,
	log: Log,
): Promise<true | string | null> {
	if (!cfg.rootlessCNI && (asked.js || !asked.tcp)) return null;
	const { loadPump } = await import("../../ffi/pump");
	let why = "";
	const cacheDir = cfg.tmpDir ? `${cfg.tmpDir}/ctrnet-native` : undefined;
	if (loadPump(cacheDir, (msg) => (why = msg))) return true;
	log(`native helper unavailable: ${why}`);
	return why;
}

/**
 * The TCP data path: "splice" (ffi/pump.c, kernel copies on pump threads) unless there is no TCP
 * port, pump cannot be loaded here, or CTRNET_ROOTLESSPORT_ENGINE=js asks for the
 * Bun.listen/Bun.connect one. Each is loaded only when used (the JS one brings libc.ts and
 * netns/enter along): the forwarder lives long and has a memory budget.
 */
function chooseEngine(native: true | string | null, asked: Asked): Engine {
	if (asked.js) return "js";
	return native === true ? "splice" : "js";
}

async function tcpPath(cfg: RootlessportConfig, engine: Engine, s: Shared): Promise<Listen> {
	if (engine === "splice") {
		const { listenTcpSplice } = await import("./tcp-splice");
		return (f) => listenTcpSplice(f, cfg.netnsPath);
	}
	const { listenTcp } = await import("./tcp");
	return (f) => listenTcp(f, cfg.netnsPath, s.target, s.log, s.conns);
}

async function listenAll(cfg: RootlessportConfig, engine: Engine, s: Shared): Promise<Closable[]> {
	let tcp: Listen | undefined;
	const open: Closable[] = [];
	for (const f of cfg.forwards) {
		try {
			if (f.proto === "udp") {
				const { listenUdp } = await import("./udp");
				open.push(await listenUdp(f, cfg.netnsPath, s.target, { log: s.log, table: s.flows }));
			} else {
				tcp ??= await tcpPath(cfg, engine, s);
				open.push(await tcp(f));
			}
			const how = f.proto === "tcp" ? engine : "js";
			s.log(
				`listening ${f.proto} ${f.hostIP}:${f.hostPort} -> ${cfg.childIP}:${f.containerPort} (${how})`,
			);
		} catch (err) {
			for (const c of open) c.close();
			throw new StartFailure(
				listenErrorLine(
					f.proto,
					f.hostIP,
					f.hostPort,
					errorCode(err),
					unprivilegedPortStart(),
					err instanceof Error ? err.message : String(err),
				),
			);
		}
	}
	return open;
}

class StartFailure extends Error {}

/** Resolves at EOF (or error) of ExitFD; never when there is none (ctrnet's ExitFD -1). */
async function exitFdClosed(fd: number | null): Promise<string> {
	if (fd === null) return new Promise(() => {});
	const reader = Bun.file(fd).stream().getReader();
	try {
		while (!(await reader.read()).done) {
			// podman never writes to it; anything read is ignored until EOF.
		}
	} catch {
		// A read error means the other end is unusable: treat as EOF, as rootlesskit does.
	}
	return "exit fd closed";
}

function signalled(): Promise<string> {
	return new Promise((resolve) => {
		for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => resolve(sig));
	});
}

/**
 * How this forwarder will stop. splice: the pump ends the process with _exit(0) from C (see
 * pump.c; it removes the reload socket first), so this never resolves. js: a signal or ExitFD's
 * EOF, then listeners are closed.
 */
async function stopWhen(
	cfg: RootlessportConfig,
	engine: Engine,
): Promise<{ stop: Promise<string> }> {
	// Boxed: an async function returning a promise would wait for it.
	if (engine === "splice") {
		const { pumpStopOn } = await import("../../ffi/pump");
		pumpStopOn(cfg.exitFd ?? -1);
		// Nothing of Bun's may be left to wait on (TCP lives on pump threads): keep the event loop
		// waiting on a timer, or it spins (measured: a core at 100% with no handle left).
		setInterval(() => {}, 3_600_000);
		return { stop: new Promise(() => {}) };
	}
	return { stop: Promise.race([signalled(), exitFdClosed(cfg.exitFd)]) };
}

/** The caps for this config under this process's fd limit (limits.ts). */
function capsOf(cfg: RootlessportConfig, engine: Engine, asked: Asked): Caps {
	const nofile = openFilesLimit(readText("/proc/self/limits")) ?? 1024;
	return capsFor({
		nofile,
		listeners: cfg.forwards.length,
		tcp: asked.tcp,
		udp: cfg.forwards.some((f) => f.proto === "udp"),
		fdsPerConn: engine === "splice" ? 6 : 2,
	});
}

/** podman's TmpDir/rp, made 0700 if missing, and refused unless it is ours alone. */
async function startReloadSocket(cfg: RootlessportConfig): Promise<void> {
	const { checkPrivateDir } = await import("../../ffi/compiled");
	const { pumpReloadStart } = await import("../../ffi/pump");
	const dir = `${cfg.tmpDir}/rp`;
	mkdirSync(dir, { recursive: true, mode: 0o700 });
	checkPrivateDir(dir);
	pumpReloadStart(dir, cfg.containerId);
}

export async function forward(cfg: RootlessportConfig): Promise<number> {
	try {
		statSync(cfg.netnsPath);
	} catch (err) {
		writeOut(`open ${cfg.netnsPath}: ${errorText(err)}\n`);
		return 1;
	}
	const { log, flush } = boundedLog(writeErrQuietly);

	const asked: Asked = {
		js: process.env.CTRNET_ROOTLESSPORT_ENGINE === "js",
		tcp: cfg.forwards.some((f) => f.proto === "tcp"),
	};
	const native = await loadNative(cfg, asked, log);
	if (cfg.rootlessCNI && native !== true) {
		writeOut(`rootless CNI reload socket needs the native helper: ${native}\n`);
		return 1;
	}
	const pump = native === true ? await import("../../ffi/pump") : null;
	let target = fixedTarget(cfg.childIP);
	if (pump) {
		if (pump.pumpSetChild(cfg.childIP) !== "ok") {
			writeOut(`invalid ChildIP ${JSON.stringify(cfg.childIP)}\n`);
			return 1;
		}
		if (cfg.rootlessCNI) target = { ip: pump.pumpChild, gen: pump.pumpChildGen };
	}
	const engine = chooseEngine(native, asked);
	// The ceilings until ready; the caps from the fd limit are set right after (start-up).
	const shared: Shared = {
		target,
		log,
		flows: new FlowTable<UdpFlow>(MAX_UDP_FLOWS),
		conns: { open: 0, max: MAX_TCP_CONNS },
	};

	const { stop } = await stopWhen(cfg, engine);
	let listeners: Closable[];
	try {
		listeners = await listenAll(cfg, engine, shared);
		if (cfg.rootlessCNI) {
			try {
				await startReloadSocket(cfg);
			} catch (err) {
				for (const l of listeners) l.close();
				throw new StartFailure(`reload socket: ${err instanceof Error ? err.message : err}`);
			}
		}
	} catch (err) {
		writeOut(`${err instanceof StartFailure ? err.message : String(err)}\n`);
		return 1;
	}
	writeSync(cfg.readyFd, "1");
	closeSync(cfg.readyFd);
	// What follows is off the start-up path. A forwarder lives on: the JIT's normal policy again
	// (the executable starts with a reluctant one, made for one-shot commands: scripts/build).
	Bun.unsafe.setJITPolicy(1);
	// The caps: shares of the fd limit (limits.ts).
	const caps = capsOf(cfg, engine, asked);
	shared.flows.max = Math.max(caps.udpFlows, 1);
	shared.conns.max = caps.tcpConns;
	if (engine === "splice") pump?.pumpLimits(caps.tcpConns);
	// A forwarder serves every port of a container: an unexpected error in one callback is
	// logged (one line, rate-limited) and the rest goes on.
	const unexpected = (err: unknown) =>
		log(`unexpected error: ${err instanceof Error ? err.message : String(err)}`, "unexpected");
	process.on("uncaughtException", unexpected);
	process.on("unhandledRejection", unexpected);
	setInterval(flush, LOG_LIMITS.windowMs).unref();
	log(
		`ready (${cfg.forwards.length} ports, container ${cfg.containerId || "?"}, ` +
			`at most ${caps.udpFlows} udp flows and ${caps.tcpConns} tcp connections, ${rss()})`,
	);
	const why = await stop;
	if (cfg.rootlessCNI) pump?.pumpReloadStop();
	for (const l of listeners) l.close();
	flush();
	log(`stopping: ${why}`);
	return 0;
}

function errorText(err: unknown): string {
	return errorCode(err) === "ENOENT" ? "no such file or directory" : String(err);
}
