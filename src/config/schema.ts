// The resolved configuration: the single source of its type.
import * as z from "zod/mini";
import { isIPv4Cidr } from "../ip/cidr";
import { LOG_LEVELS } from "../log";
import { BACKENDS } from "../state/schema";
import { OUTPUT_FORMATS } from "./options";

const absPath = z.string().check(
	z.minLength(1),
	z.refine((p) => p.startsWith("/"), "must be an absolute path"),
	z.refine((p) => !p.split("/").includes(".."), "must not contain '..'"),
);

/** The network modes an unprivileged user's container can get by default. */
export const ROOTLESS_NETWORKS = ["slirp4netns", "pasta"] as const;
export type RootlessNetwork = (typeof ROOTLESS_NETWORKS)[number];

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;

export const ConfigSchema = z.object({
	rootless: z.boolean(),
	root: absPath,
	runRoot: absPath,
	netnsDir: absPath,
	cniConfigDir: absPath,
	cniPluginDirs: z.array(absPath).check(z.minLength(1)),
	cniCacheDir: absPath,
	networkConfigDir: absPath,
	defaultNetwork: z.string().check(z.regex(NAME_PATTERN, "invalid network name")),
	defaultSubnet: z.string().check(z.refine(isIPv4Cidr, "must be an IPv4 CIDR")),
	networkBackend: z.enum(BACKENDS),
	rootlessNetwork: z.enum(ROOTLESS_NETWORKS),
	logLevel: z.enum(LOG_LEVELS),
	format: z.enum(OUTPUT_FORMATS),
});

export type Config = z.infer<typeof ConfigSchema>;
