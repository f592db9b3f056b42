// Finding pasta and saying which one it is (podman info's `pasta: {executable, package, version}`).
// Debian 12's build answers `pasta --version` with "pasta unknown version", so the package that
// owns the binary (read from dpkg's database, as podman's version.Package asks dpkg) tells more.
import { readFileSync, realpathSync } from "node:fs";
import { outputOf } from "../process/output";

export interface PastaInfo {
	path: string;
	/** pasta's own --version ("unknown version" on Debian 12's build). */
	version: string;
	/** dpkg's `name_version_arch` of the package that installed it, "" when unknown. */
	package: string;
}

/** The package to name when pasta is missing (Debian, Ubuntu, Fedora all call it this). */
export const PASTA_PACKAGE = "passt";

/** First line of `pasta --version`: "pasta 2024_05_23.765eb0b" → "2024_05_23.765eb0b". */
export function parsePastaVersion(out: string): string {
	const line = out.split("\n").find((l) => /^pasta /.test(l));
	return line ? line.slice("pasta ".length).trim() : "unknown";
}

/** `name_version_arch` of the dpkg status stanza of `pkg`, or "" when it is not installed. */
export function dpkgPackage(status: string, pkg: string): string {
	for (const stanza of status.split(/\n\n+/)) {
		const field = (k: string) => new RegExp(`^${k}: (.+)$`, "m").exec(stanza)?.[1]?.trim();
		if (field("Package") !== pkg || !field("Status")?.endsWith(" installed")) continue;
		return `${pkg}_${field("Version") ?? ""}_${field("Architecture") ?? ""}`;
	}
	return "";
}

function ownedBy(pkg: string, path: string): boolean {
	try {
		const files = readFileSync(`/var/lib/dpkg/info/${pkg}.list`, "utf8").split("\n");
		return files.includes(path) || files.includes(realpathSync(path));
	} catch {
		return false;
	}
}

export function findPasta(): string | null {
	return Bun.which("pasta");
}

/** pasta's path, version and package; null when it is not installed. */
export async function detectPasta(path = findPasta()): Promise<PastaInfo | null> {
	if (!path) return null;
	const said = await outputOf([path, "--version"]);
	let pkg = "";
	try {
		if (ownedBy(PASTA_PACKAGE, path)) {
			pkg = dpkgPackage(readFileSync("/var/lib/dpkg/status", "utf8"), PASTA_PACKAGE);
		}
	} catch {
		// not a dpkg system
	}
	return { path, version: parsePastaVersion(said), package: pkg };
}
