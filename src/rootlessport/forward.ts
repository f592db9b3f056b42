// The forwarder's life: listen on every mapping, say "ready", run until told to stop.
// Contract (podman's rootlessport): `1` on ReadyFD (then closed) once every port listens; exit 0
// when ExitFD reaches EOF or on SIGTERM/SIGINT, with every listener closed; on failure one line
// on stdout (the caller reports it as `rootlessport <line>`) and exit 1.
import { closeSync, readFileSync, statSync, writeSync } from "node:fs";
import { writeErr, writeOut } from "../io";
import type { Forward, RootlessportConfig } from "./config";
import { errorCode, listenErrorLine } from "./listen-error";

const log = (line: string) => {
	try {
		writeErr(`rootlessport: ${line}\n`);
	} catch {
		// stderr gone (the log file's reader does not matter to the forwarding): keep going.
	}
};

function unprivilegedPortStart(): number {
	try {
		const n = Number.parseInt(
			readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"),
			10,
		);
		return Number.isFinite(n) ? n : 1024;
	} catch {
		return 1024;
	}
}

/** VmRSS for the debug log: the forwarder lives long and has a memory budget. */
function rss(): string {
	try {
		return /VmRSS:\s*(\d+ kB)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "?";
	} catch {
		return "?";
	}
}

interface Closable {
	close(): void;
}

type Listen = (f: Forward) => Closable | Promise<Closable>;
type Engine = "splice" | "js";

/**
 * The TCP data path: "splice" (ffi/pump.c, kernel copies on pump threads) unless there is no TCP
 * port, pump.c cannot be compiled here, or CTRNET_ROOTLESSPORT_ENGINE=js asks for the
 * Bun.listen/Bun.connect one. Each is loaded only when used (the JS one brings libc.ts and
 * netns/enter along): the forwarder lives long and has a memory budget.
 */
async function chooseEngine(cfg: RootlessportConfig): Promise<Engine> {
	if (process.env.CTRNET_ROOTLESSPORT_ENGINE === "js") return "js";
	if (!cfg.forwards.some((f) => f.proto === "tcp")) return "js";
	const { loadPump } = await import("../../ffi/pump");
	const ok = loadPump(cfg.tmpDir || "/tmp", (why) => log(`splice engine unavailable: ${why}`));
	return ok ? "splice" : "js";
}

async function tcpPath(cfg: RootlessportConfig, engine: Engine): Promise<Listen> {
	if (engine === "splice") {
		const { listenTcpSplice } = await import("./tcp-splice");
		return (f) => listenTcpSplice(f, cfg.netnsPath, cfg.childIP);
	}
	const { listenTcp } = await import("./tcp");
	return (f) => listenTcp(f, cfg.netnsPath, cfg.childIP, log);
}

async function listenAll(cfg: RootlessportConfig, engine: Engine): Promise<Closable[]> {
	let tcp: Listen | undefined;
	const open: Closable[] = [];
	for (const f of cfg.forwards) {
		try {
			if (f.proto === "udp") {
				const { listenUdp } = await import("./udp");
				open.push(await listenUdp(f, cfg.netnsPath, cfg.childIP, log));
			} else {
				tcp ??= await tcpPath(cfg, engine);
				open.push(await tcp(f));
			}
			const how = f.proto === "tcp" ? engine : "js";
			log(
				`listening ${f.proto} ${f.hostIP}:${f.hostPort} -> ${cfg.childIP}:${f.containerPort} (${how})`,
			);
		} catch (err) {
			for (const c of open) c.close();
			throw new ListenFailure(
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

class ListenFailure extends Error {}

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
 * pump.c), so this never resolves. js: a signal or ExitFD's EOF, then listeners are closed.
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

export async function forward(cfg: RootlessportConfig): Promise<number> {
	try {
		statSync(cfg.netnsPath);
	} catch (err) {
		writeOut(`open ${cfg.netnsPath}: ${errorText(err)}\n`);
		return 1;
	}
	const engine = await chooseEngine(cfg);
	const { stop } = await stopWhen(cfg, engine);
	let listeners: Closable[];
	try {
		listeners = await listenAll(cfg, engine);
	} catch (err) {
		writeOut(`${err instanceof ListenFailure ? err.message : String(err)}\n`);
		return 1;
	}
	writeSync(cfg.readyFd, "1");
	closeSync(cfg.readyFd);
	log(`ready (${cfg.forwards.length} ports, container ${cfg.containerId || "?"}, ${rss()})`);
	log(`stopping: ${await stop}`);
	for (const l of listeners) l.close();
	return 0;
}

function errorText(err: unknown): string {
	return errorCode(err) === "ENOENT" ? "no such file or directory" : String(err);
}
