// The OCI state the runtime writes on a hook's stdin (runtime-spec "State"). runc leaves `pid` out
// at poststop (the process is gone) and sends it for createRuntime/prestart; podman runs its own
// poststop hooks with `status: "stopped"` and no pid either.
import * as z from "zod/mini";
import { UsageError } from "../errors";
import { decode, parseJson } from "../json";

export const OciStateSchema = z.object({
	ociVersion: z.string(),
	id: z.string().check(z.minLength(1)),
	status: z.enum(["creating", "created", "running", "stopped"]),
	pid: z.optional(z.int().check(z.nonnegative())),
	bundle: z.string().check(z.refine((p) => p.startsWith("/"), "must be an absolute path")),
	annotations: z._default(z.optional(z.record(z.string(), z.string())), {}),
});
export type OciState = z.infer<typeof OciStateSchema>;

/** Parses the state text; a bad document is a UsageError naming the first bad field. */
export function parseOciState(text: string): OciState {
	const json = parseJson(text);
	if (json === undefined)
		throw new UsageError("the OCI state on stdin is not JSON (is this run by an OCI runtime?)");
	return decode(OciStateSchema, json, "invalid OCI state on stdin");
}
