// Version facts. BUILD_COMMIT is defined by scripts/build (`--define`); absent under `bun run`.
declare const BUILD_COMMIT: string | undefined;

export const VERSION = "0.1.0";

export function buildCommit(): string | undefined {
	return typeof BUILD_COMMIT === "string" && BUILD_COMMIT ? BUILD_COMMIT : undefined;
}
