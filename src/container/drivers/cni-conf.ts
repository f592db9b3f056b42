// The CNI RuntimeConf of one attachment, as podman v2 built it (getPodNetwork + ocicni's
// buildCNIRuntimeConf): CNI_ARGS with the pod names and a static address, and the capability
// arguments the plugins may declare. Pure.
import type { RuntimeConf } from "../../cni";
import type { Container } from "../../state/schema";
import type { Pin } from "./types";

export function runtimeConf(c: Container, network: string, pin: Pin = {}): RuntimeConf {
	const args: [string, string][] = [
		["IgnoreUnknown", "1"],
		["K8S_POD_NAMESPACE", c.name],
		["K8S_POD_NAME", c.name],
		["K8S_POD_INFRA_CONTAINER_ID", c.id],
	];
	const capabilityArgs: Record<string, unknown> = {};
	if (pin.ip) {
		args.push(["IP", pin.ip]);
		capabilityArgs.ips = [pin.ip];
	}
	if (pin.mac) {
		args.push(["MAC", pin.mac]);
		capabilityArgs.mac = pin.mac;
	}
	// [::1] is the forwarder's (drivers/forwarder.ts): portmap cannot DNAT to it.
	const ports = c.ports.filter((p) => p.hostIP !== "::1");
	if (network === c.portsNetwork && ports.length > 0) capabilityArgs.portMappings = ports;
	// dnsname wants every network's aliases (podman passes the whole map).
	if (Object.values(c.aliases).some((a) => a.length > 0)) capabilityArgs.aliases = c.aliases;
	return {
		containerId: c.id,
		netns: c.netns?.path ?? "",
		ifName: c.interfaces[network] ?? "",
		args,
		capabilityArgs,
	};
}
