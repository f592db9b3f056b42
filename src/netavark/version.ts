// `netavark version`: netavark's four fields, about this binary. `version` is the protocol's
// (what podman may compare); commit and build time are ctrnet's own build's.
import { statSync } from "node:fs";
import { buildCommit } from "../version";
import { rustTarget, type VersionInfo } from "./result";

declare const BUILD_TIME: string | undefined;

/** When this binary was built: the build's stamp, else the executable's modification time. */
function buildTime(): string {
	if (typeof BUILD_TIME === "string" && BUILD_TIME) return BUILD_TIME;
	try {
		return statSync(process.execPath).mtime.toISOString();
	} catch {
		return "";
	}
}

export function versionInfo(version: string): VersionInfo {
	return { version, commit: buildCommit() ?? "", build_time: buildTime(), target: rustTarget() };
}
