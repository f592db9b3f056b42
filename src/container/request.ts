// A setup request as the CLI (or the OCI hook) hands it over, validated before anything on the
// host changes. Pure: raw strings in, a typed request out, UsageError for the first bad value.
import * as z from "zod/mini";
import { NAME_PATTERN, type RootlessNetwork } from "../config/schema";
import { UsageError } from "../errors";
import { ipFamily } from "../ip/address";
import { parsePublish } from "../ports/parse";
import type { PortRequest } from "../ports/schema";
import type { HookOrigin } from "../state/schema";
import { ACCEPTS, modesAccepting } from "./mode-rules";
import { type NetworkMode, parseNetworkSpecs } from "./network-spec";

export const RawSetupSchema = z.object({
	id: z.string(),
	name: z.optional(z.string()),
	netns: z.optional(z.string()),
	pid: z.optional(z.string()),
	networks: z.array(z.string()),
	ip: z.optional(z.string()),
	mac: z.optional(z.string()),
	publish: z.array(z.string()),
	aliases: z.array(z.string()),
});
export type RawSetup = z.infer<typeof RawSetupSchema>;

export interface SetupRequest {
	id: string;
	name: string;
	/** Where the namespace comes from: made by ctrnet, an existing path, or a process's. */
	netns: { kind: "create" } | { kind: "path"; path: string } | { kind: "pid"; pid: number };
	mode: NetworkMode;
	ip?: string;
	mac?: string;
	ports: PortRequest[];
	aliases: string[];
	/** Set by the OCI hook; stored in the record (see HookOriginSchema). */
	hook?: HookOrigin;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const ALIAS = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateId(id: string, what = "container ID"): string {
	if (!NAME_PATTERN.test(id)) {
		throw new UsageError(
			`invalid ${what} ${JSON.stringify(id)}: must match [a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}`,
		);
	}
	return id;
}

export function validateMac(mac: string): string {
	if (!MAC.test(mac)) throw new UsageError(`invalid MAC address ${JSON.stringify(mac)}`);
	if (Number.parseInt(mac.slice(0, 2), 16) & 1) {
		throw new UsageError(
			`invalid MAC address ${JSON.stringify(mac)}: a multicast address cannot be assigned`,
		);
	}
	return mac.toLowerCase();
}

export function validateAlias(alias: string): string {
	if (!ALIAS.test(alias)) throw new UsageError(`invalid alias ${JSON.stringify(alias)}`);
	return alias;
}

export function parseSetup(
	raw: RawSetup,
	defaultNetwork: string,
	rootless: boolean,
	rootlessNetwork: RootlessNetwork,
): SetupRequest {
	const id = validateId(raw.id);
	const name = raw.name === undefined ? id : validateId(raw.name, "name");
	if (raw.netns !== undefined && raw.pid !== undefined)
		throw new UsageError("--netns and --pid exclude each other");
	let netns: SetupRequest["netns"] = { kind: "create" };
	if (raw.netns !== undefined) {
		if (!raw.netns.startsWith("/") || raw.netns.split("/").includes("..")) {
			throw new UsageError(
				`invalid --netns ${JSON.stringify(raw.netns)}: must be an absolute path without '..'`,
			);
		}
		netns = { kind: "path", path: raw.netns };
	}
	if (raw.pid !== undefined) {
		if (!/^[1-9]\d{0,9}$/.test(raw.pid))
			throw new UsageError(`invalid --pid ${JSON.stringify(raw.pid)}`);
		netns = { kind: "pid", pid: Number(raw.pid) };
	}
	const mode = parseNetworkSpecs(raw.networks, defaultNetwork, rootless, rootlessNetwork);
	if (raw.ip !== undefined && !ipFamily(raw.ip))
		throw new UsageError(`invalid IP address ${JSON.stringify(raw.ip)}`);
	const mac = raw.mac === undefined ? undefined : validateMac(raw.mac);
	const ports = raw.publish.map(parsePublish);
	const aliases = [...new Set(raw.aliases.map(validateAlias))];

	const accepts = ACCEPTS[mode.mode];
	const not = `not --network ${mode.mode}`;
	if (!accepts.address && (raw.ip !== undefined || mac !== undefined)) {
		throw new UsageError(`--ip and --mac need ${modesAccepting("address")}, ${not}`);
	}
	if (!accepts.ports && ports.length > 0) {
		throw new UsageError(`--publish needs ${modesAccepting("ports")}, ${not}`);
	}
	if (!accepts.aliases && aliases.length > 0) {
		throw new UsageError(`--alias needs ${modesAccepting("aliases")}, ${not}`);
	}
	if (!accepts.netnsSource && netns.kind !== "create") {
		throw new UsageError(`--netns and --pid cannot be used with --network ${mode.mode}`);
	}
	return { id, name, netns, mode, ip: raw.ip, mac, ports, aliases };
}
