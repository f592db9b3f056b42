// A process as ctrnet records it (a record's owner, the rootless netns' holder and slirp4netns):
// the single source of ProcessIdentity's type. Built on first use, like every stored schema.
import * as z from "zod/mini";
import { lazySchema } from "../json";

export const ProcessIdentitySchema = lazySchema(() =>
	z.object({
		pid: z.int(),
		/** Field 22 of /proc/PID/stat: a recycled pid has another one. */
		startTime: z.string(),
	}),
);
export type ProcessIdentity = z.infer<ReturnType<typeof ProcessIdentitySchema>>;
