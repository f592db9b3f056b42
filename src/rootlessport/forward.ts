// The forwarder's life: listen on every mapping, say "ready", run until told to stop.
// Contract (podman's rootlessport): `1` on ReadyFD (then closed) once every port listens; exit 0
// when ExitFD reaches EOF or on SIGTERM/SIGINT, with every listener closed; on failure one line
// on stdout (the caller reports it as `rootlessport <line>`) and exit 1.
import { closeSync, readFileSync, statSync, writeSync } from "node:fs";
import { writeErr, writeOut } from "../io";
import type { Forward, RootlessportConfig } from "./config";
import { errorCode, listenErrorLine } from "./listen-error";
import { listenTcp } from "./tcp";
import { listenTcpSplice } from "./tcp-splice";
import { listenUdp } from "./udp";

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

interface Closable {
	close(): void;
}

/**
 * The TCP data path: "splice" (ffi/pump.c, kernel copies on pump threads) unless it cannot be
 * compiled here, or CTRNET_ROOTLESSPORT_ENGINE=js asks for the Bun.listen/Bun.connect one.
 */
async function tcpEngine(tmpDir: string): Promise<"splice" | "js"> {
	if (process.env.CTRNET_ROOTLESSPORT_ENGINE === "js") return "js";
	const { loadPump } = await import("../../ffi/pump");
	if (loadPump(tmpDir || "/tmp", (why) => log(`splice engine unavailable, using js: ${why}`))) {
		return "splice";
	}
	return "js";
}

async function listenAll(cfg: RootlessportConfig): Promise<Closable[]> {
	const engine = cfg.forwards.some((f) => f.proto === "tcp") ? await tcpEngine(cfg.tmpDir) : "js";
	const open: Closable[] = [];
	const fail = (f: Forward, err: unknown): never => {
		for (const c of open) c.close();
		const line = listenErrorLine(
			f.proto,
			f.hostIP,
			f.hostPort,
			errorCode(err),
			unprivilegedPortStart(),
			err instanceof Error ? err.message : String(err),
		);
		throw new ListenFailure(line);
	};
	for (const f of cfg.forwards) {
		try {
			open.push(
				f.proto === "udp"
					? await listenUdp(f, cfg.netnsPath, cfg.childIP, log)
					: engine === "splice"
						? listenTcpSplice(f, cfg.netnsPath, cfg.childIP)
						: listenTcp(f, cfg.netnsPath, cfg.childIP, log),
			);
			log(
				`listening ${f.proto} ${f.hostIP}:${f.hostPort} -> ${cfg.childIP}:${f.containerPort} (${f.proto === "tcp" ? engine : "js"})`,
			);
		} catch (err) {
			fail(f, err);
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

export async function forward(cfg: RootlessportConfig): Promise<number> {
	try {
		statSync(cfg.netnsPath);
	} catch (err) {
		writeOut(`open ${cfg.netnsPath}: ${errorText(err)}\n`);
		return 1;
	}
	const stop = signalled();
	let listeners: Closable[];
	try {
		listeners = await listenAll(cfg);
	} catch (err) {
		writeOut(`${err instanceof ListenFailure ? err.message : String(err)}\n`);
		return 1;
	}
	writeSync(cfg.readyFd, "1");
	closeSync(cfg.readyFd);
	log(`ready (${cfg.forwards.length} ports, container ${cfg.containerId || "?"})`);
	const why = await Promise.race([stop, exitFdClosed(cfg.exitFd)]);
	log(`stopping: ${why}`);
	for (const l of listeners) l.close();
	return 0;
}

function errorText(err: unknown): string {
	return errorCode(err) === "ENOENT" ? "no such file or directory" : String(err);
}
