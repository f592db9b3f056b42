// Client for slirp4netns' API socket (--api-socket), as podman's setupRootlessPortMappingViaSlirp:
// one unix connection per request, the JSON request written, the write side shut, the reply read
// to EOF. slirp4netns handles one request at a time and "stops the world" meanwhile, so requests
// are sent one after another, never in parallel.
import { existsSync } from "node:fs";
import * as z from "zod/mini";
import type { PortMapping } from "../ports/schema";

const ErrorReply = z.object({ error: z.unknown() });
const AddReply = z.object({ return: z.object({ id: z.int() }) });
const HostfwdEntry = z.object({
	id: z.int(),
	proto: z.string(),
	host_addr: z.string(),
	host_port: z.int(),
	guest_addr: z.string(),
	guest_port: z.int(),
});
export type HostfwdEntry = z.infer<typeof HostfwdEntry>;
// slirp4netns 1.2 answers list_hostfwd with `{"entries": [...]}`, not wrapped in `return`.
const Entries = z.object({ entries: z._default(z.array(HostfwdEntry), []) });
const ListReply = z.union([Entries, z.object({ return: Entries })]);

export class SlirpApiError extends Error {
	override name = "SlirpApiError";
}

/** slirp's error object as one line: its `desc` when it has one. */
function describe(error: unknown): string {
	const desc = (error as { desc?: unknown } | null)?.desc;
	return typeof desc === "string" ? desc : JSON.stringify(error);
}

/** Sends one request and returns the parsed reply. */
export async function slirpRequest(
	socketPath: string,
	request: object,
	timeoutMs = 5000,
): Promise<unknown> {
	const text = await new Promise<string>((resolve, reject) => {
		const chunks: Buffer[] = [];
		const timer = setTimeout(
			() => reject(new SlirpApiError(`no reply from slirp4netns API ${socketPath}`)),
			timeoutMs,
		);
		Bun.connect({
			unix: socketPath,
			allowHalfOpen: true,
			socket: {
				open(s) {
					s.write(JSON.stringify(request));
					s.shutdown(); // slirp4netns reads the request to EOF
				},
				data(_s, d) {
					chunks.push(Buffer.from(d));
				},
				close() {
					clearTimeout(timer);
					resolve(Buffer.concat(chunks).toString("utf8"));
				},
				connectError(_s, err) {
					clearTimeout(timer);
					reject(
						new SlirpApiError(`cannot connect to slirp4netns API ${socketPath}: ${err.message}`),
					);
				},
			},
		}).catch(() => {}); // connectError rejects
	});
	try {
		return JSON.parse(text);
	} catch {
		throw new SlirpApiError(`cannot parse reply of slirp4netns API: ${JSON.stringify(text)}`);
	}
}

export interface Hostfwd {
	proto: "tcp" | "udp";
	/** "" or "0.0.0.0" = every address (slirp's add_hostfwd is IPv4 only). */
	hostAddr: string;
	hostPort: number;
	guestPort: number;
}

/** add_hostfwd; returns slirp's id for the forward. */
export async function addHostfwd(socketPath: string, f: Hostfwd): Promise<number> {
	const reply = await slirpRequest(socketPath, {
		execute: "add_hostfwd",
		arguments: {
			proto: f.proto,
			host_addr: f.hostAddr || "0.0.0.0",
			host_port: f.hostPort,
			guest_addr: "", // podman sends it empty: slirp then uses the -c address
			guest_port: f.guestPort,
		},
	});
	const err = ErrorReply.safeParse(reply);
	if (err.success) {
		throw new SlirpApiError(
			`error from slirp4netns while setting up port redirection: ${describe(err.data.error)}`,
		);
	}
	const ok = AddReply.safeParse(reply);
	if (!ok.success)
		throw new SlirpApiError(`unexpected reply from slirp4netns: ${JSON.stringify(reply)}`);
	return ok.data.return.id;
}

export async function listHostfwd(socketPath: string): Promise<HostfwdEntry[]> {
	const reply = await slirpRequest(socketPath, { execute: "list_hostfwd" });
	const err = ErrorReply.safeParse(reply);
	if (err.success) throw new SlirpApiError(`error from slirp4netns: ${describe(err.data.error)}`);
	const ok = ListReply.safeParse(reply);
	if (!ok.success)
		throw new SlirpApiError(`unexpected reply from slirp4netns: ${JSON.stringify(reply)}`);
	return "return" in ok.data ? ok.data.return.entries : ok.data.entries;
}

export async function removeHostfwd(socketPath: string, id: number): Promise<void> {
	const reply = await slirpRequest(socketPath, { execute: "remove_hostfwd", arguments: { id } });
	const err = ErrorReply.safeParse(reply);
	if (err.success) throw new SlirpApiError(`error from slirp4netns: ${describe(err.data.error)}`);
}

/** Waits for the API socket to appear (podman: 25 ms polls); false on timeout. */
export async function waitForSocket(path: string, timeoutMs = 5000): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (!existsSync(path)) {
		if (Date.now() > deadline) return false;
		await Bun.sleep(25);
	}
	return true;
}

/** Publishes every mapping through slirp (port_handler=slirp4netns); returns the forward ids. */
export async function publishViaSlirp(
	socketPath: string,
	mappings: readonly PortMapping[],
): Promise<number[]> {
	if (!(await waitForSocket(socketPath))) {
		throw new SlirpApiError(`timed out waiting for file ${socketPath}`);
	}
	const ids: number[] = [];
	for (const m of mappings) {
		if (m.protocol === "sctp")
			throw new SlirpApiError("sctp ports are not supported by slirp4netns");
		ids.push(
			await addHostfwd(socketPath, {
				proto: m.protocol,
				hostAddr: m.hostIP,
				hostPort: m.hostPort,
				guestPort: m.containerPort,
			}),
		);
	}
	return ids;
}
