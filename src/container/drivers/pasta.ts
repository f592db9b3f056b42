// --network pasta: pasta (from passt) for the container's namespace as podman 5 runs it: the
// host's addresses and routes copied in, published ports forwarded by pasta itself (the server
// sees the client's real address), pasta recorded as a helper and stopped at teardown and gc.
import { readFileSync } from "node:fs";
import { UsageError } from "../../errors";
import { startPasta } from "../../helpers/pasta";
import { log } from "../../log";
import { listAddresses, listLinks, listRoutes, withNetlink } from "../../netlink";
import { addressesFromProc, type PastaAddresses, pastaResult } from "../../pasta/addresses";
import { buildPastaArgs } from "../../pasta/argv";
import { findPasta, PASTA_PACKAGE } from "../../pasta/detect";
import {
	checkPublishConflicts,
	PastaOptionError,
	type PastaOptions,
	parsePastaOptions,
} from "../../pasta/options";
import type { PortRequest } from "../../ports/schema";
import type { Change } from "../change";
import { makeRunDir, recordHelper, stopRecordedHelper } from "../helper-records";
import { PASTA_RESULT } from "../inspect";

export interface PastaPlan {
	binary: string;
	options: PastaOptions;
}

function refuse<T>(fn: () => T): T {
	try {
		return fn();
	} catch (e) {
		if (e instanceof PastaOptionError) throw new UsageError(e.message);
		throw e;
	}
}

/** Everything that can be refused is refused here, before the host changes. */
export function planPasta(raw: string[], ports: readonly PortRequest[]): PastaPlan {
	const binary = findPasta();
	if (!binary) {
		throw new UsageError(
			`could not find pasta, the network namespace can't be configured: pasta is not in PATH (install the ${PASTA_PACKAGE} package)`,
		);
	}
	const options = refuse(() => parsePastaOptions(raw));
	refuse(() => checkPublishConflicts(options, ports));
	for (const p of ports) {
		if (p.protocol !== "tcp" && p.protocol !== "udp") {
			throw new UsageError(`can't forward protocol: ${p.protocol}`);
		}
	}
	return { binary, options };
}

/** The interface, addresses and default gateways pasta configured; as root via rtnetlink. */
function readNetns(path: string): PastaAddresses {
	return withNetlink(path, (nl) => {
		const links = listLinks(nl).filter((l) => l.name !== "lo");
		const routes = listRoutes(nl).filter((r) => r.gateway && r.dst.endsWith("/0"));
		const addrs = listAddresses(nl).filter((a) => a.scope === "global");
		const link = links.find((l) => addrs.some((a) => a.index === l.index)) ?? links[0];
		return {
			ifname: link?.name ?? "",
			...(link?.mac ? { mac: link.mac } : {}),
			addrs: addrs
				.filter((a) => a.index === link?.index)
				.map((a) => {
					const gateway = routes.find((r) => r.family === a.family)?.gateway;
					return { cidr: `${a.address}/${a.prefixLen}`, ...(gateway ? { gateway } : {}) };
				}),
		};
	});
}

/** Rootless: the kernel's view of the process's network namespace under /proc/PID/net. */
function readProc(pid: number): PastaAddresses {
	const f = (name: string) => readFileSync(`/proc/${pid}/net/${name}`, "utf8");
	return addressesFromProc({
		fibTrie: f("fib_trie"),
		route: f("route"),
		ifInet6: f("if_inet6"),
		ipv6Route: f("ipv6_route"),
	});
}

/**
 * Starts pasta for the container's namespace; recorded as soon as it runs, so a failure later
 * (or a kill) still stops it at teardown or gc. Then what it configured is read and stored.
 */
export async function startPastaFor(ch: Change, plan: PastaPlan): Promise<void> {
	const { rt } = ch;
	const netns = ch.c.netns;
	if (!netns) throw new Error("pasta needs a network namespace");
	// Host ports picked by ctrnet are known only now: pasta's own -t/-u must not take them too.
	refuse(() =>
		checkPublishConflicts(
			plan.options,
			ch.c.ports.map((p) => ({ ...p, count: 1 })),
		),
	);
	const tmpDir = makeRunDir(rt, ch.c.id);
	// Rootless, pasta joins the container's user namespace to configure its network namespace.
	const viaPid = rt.config.rootless ? netns.pid : undefined;
	const { args, dnsForward } = refuse(() =>
		buildPastaArgs({
			options: plan.options,
			ports: ch.c.ports,
			netnsPath: netns.path,
			...(viaPid !== undefined ? { userns: `/proc/${viaPid}/ns/user` } : {}),
			pidFile: `${tmpDir}/pasta.pid`,
			root: !rt.config.rootless,
		}),
	);
	log.debug(`pasta arguments: ${args.join(" ")}`);
	const started = await startPasta({
		binary: plan.binary,
		args,
		pidFile: `${tmpDir}/pasta.pid`,
		logPath: `${tmpDir}/pasta-${ch.c.id}.log`,
	});
	if (started.warnings) log.info(`pasta logged warnings: ${JSON.stringify(started.warnings)}`);
	recordHelper(ch, "pasta", started);
	try {
		const found = viaPid !== undefined ? readProc(viaPid) : readNetns(netns.path);
		const result = pastaResult(found, dnsForward, netns.path);
		ch.save((x) => ({ ...x, results: { ...x.results, [PASTA_RESULT]: result } }));
	} catch (e) {
		// Only inspect's addresses depend on it; the container's network works.
		log.warn(`${ch.c.id}: cannot read what pasta configured: ${(e as Error).message}`);
	}
}

/** reload: whatever helper still runs is stopped, then pasta starts again as at setup. */
export async function restartPasta(ch: Change): Promise<void> {
	if (ch.c.mode.mode !== "pasta") return;
	const plan = planPasta(ch.c.mode.options, []);
	for (const h of [...ch.c.helpers]) await stopRecordedHelper(ch, h);
	await startPastaFor(ch, plan);
}
