// The resolved configuration: the single source of its type.
import { z } from "zod";
import { LOG_LEVELS } from "../log";
import { OUTPUT_FORMATS } from "./options";

const absPath = z
	.string()
	.min(1)
	.refine((p) => p.startsWith("/"), "must be an absolute path")
	.refine((p) => !p.split("/").includes(".."), "must not contain '..'");

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;

export const ConfigSchema = z.object({
	rootless: z.boolean(),
	root: absPath,
	runRoot: absPath,
	netnsDir: absPath,
	cniConfigDir: absPath,
	cniPluginDirs: z.array(absPath).min(1),
	cniCacheDir: absPath,
	defaultNetwork: z.string().regex(NAME_PATTERN, "invalid network name"),
	defaultSubnet: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR"),
	logLevel: z.enum(LOG_LEVELS),
	format: z.enum(OUTPUT_FORMATS),
});

export type Config = z.infer<typeof ConfigSchema>;
