// pasta's command line, built as podman 5.0 does it (containers/common 0.58's createPastaArgs):
//   --config-net, the user's options, one -t/-u per published range, --dns-forward 169.254.0.1
//   unless given, -t/-u/-T/-U none for what was not given, --no-map-gw unless --map-gw,
//   --quiet (left out with --debug, which pasta refuses together with it, as podman 5.2 does),
//   the namespace.
// ctrnet adds what its own way of running pasta needs: --pid (pasta goes to the background and
// ctrnet records and later stops that process), --userns rootless (ctrnet runs outside the
// container's user namespace, podman inside its own), and --runas 0 as root: pasta started as
// root drops to "nobody" before it joins the namespace, and then cannot (podman only runs pasta
// rootless). Pure.
import type { PortMapping } from "../ports/schema";
import { PastaOptionError, type PastaOptions } from "./options";

/** podman's nameserver address inside the container (containers/common 0.58.1 to 0.60). */
export const DNS_FORWARD_IPV4 = "169.254.0.1";

export interface PortRange {
	hostIP: string;
	hostPort: number;
	containerPort: number;
	/** Consecutive ports (podman's Range). */
	range: number;
	protocol: PortMapping["protocol"];
}

/** ctrnet stores one mapping per port; consecutive ones become a range again, as podman has them. */
export function portRanges(ports: readonly PortMapping[]): PortRange[] {
	const out: PortRange[] = [];
	for (const p of ports) {
		const last = out[out.length - 1];
		if (
			last &&
			last.protocol === p.protocol &&
			last.hostIP === p.hostIP &&
			last.hostPort + last.range === p.hostPort &&
			last.containerPort + last.range === p.containerPort
		) {
			last.range++;
		} else out.push({ ...p, range: 1 });
	}
	return out;
}

export interface PastaArgvInput {
	options: PastaOptions;
	ports: readonly PortMapping[];
	/** The container's network namespace (a path; /proc/PID/ns/net rootless). */
	netnsPath: string;
	/** Rootless: the container's user namespace, which pasta joins to configure the netns. */
	userns?: string;
	/** Where pasta writes the pid of its background process. */
	pidFile: string;
	/** ctrnet runs as root: add --runas 0 unless the user chose --runas. */
	root: boolean;
}

export interface PastaArgv {
	args: string[];
	/** The --dns-forward addresses: the container's nameservers (podman puts them first). */
	dnsForward: string[];
}

export function buildPastaArgs(i: PastaArgvInput): PastaArgv {
	const o = i.options;
	const args = ["--config-net", ...o.args];
	let tcp = o.tcp.length > 0;
	let udp = o.udp.length > 0;
	for (const r of portRanges(i.ports)) {
		if (r.protocol === "tcp") tcp = true;
		else if (r.protocol === "udp") udp = true;
		else throw new PastaOptionError(`can't forward protocol: ${r.protocol}`);
		const addr = r.hostIP ? `${r.hostIP}/` : "";
		const host = `${r.hostPort}-${r.hostPort + r.range - 1}`;
		const ctr = `${r.containerPort}-${r.containerPort + r.range - 1}`;
		args.push(r.protocol === "tcp" ? "-t" : "-u", `${addr}${host}:${ctr}`);
	}
	const dnsForward = o.dnsForward.length > 0 ? o.dnsForward : [DNS_FORWARD_IPV4];
	if (o.dnsForward.length === 0) args.push("--dns-forward", DNS_FORWARD_IPV4);
	if (!tcp) args.push("-t", "none");
	if (!udp) args.push("-u", "none");
	if (!o.tcpNs) args.push("-T", "none");
	if (!o.udpNs) args.push("-U", "none");
	if (!o.mapGw) args.push("--no-map-gw");
	if (!o.debug) args.push("--quiet");
	if (i.root && !o.runas) args.push("--runas", "0");
	args.push("--pid", i.pidFile);
	if (i.userns) args.push("--userns", i.userns);
	args.push("--netns", i.netnsPath);
	return { args, dnsForward };
}
