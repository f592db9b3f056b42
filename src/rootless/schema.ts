// What ctrnet remembers about a user's rootless network namespace: the holder process (its user,
// mount and network namespaces are the rootless netns; they live while it does) and the
// slirp4netns that gives it a way out. One JSON file in the run root, read under its lock.
import * as z from "zod/mini";
import { lazySchema } from "../json";
import { ProcessIdentitySchema } from "../process/schema";

export const RootlessNetnsSchema = lazySchema(() =>
	z.object({
		holder: ProcessIdentitySchema(),
		slirp: z.nullable(ProcessIdentitySchema()),
		/** slirp4netns' network inside the rootless netns (tap0); networks must not overlap it. */
		cidr: z.string(),
		createdAt: z.string(),
	}),
);
export type RootlessNetns = z.infer<ReturnType<typeof RootlessNetnsSchema>>;

/** The rootless netns' namespaces, as paths any process of the user can name. */
export const nsPaths = (r: Pick<RootlessNetns, "holder">) => ({
	user: `/proc/${r.holder.pid}/ns/user`,
	mnt: `/proc/${r.holder.pid}/ns/mnt`,
	net: `/proc/${r.holder.pid}/ns/net`,
});
