// The error model: anything a user can cause is a CtrnetError (one line, exit 125). Anything else
// is a bug or a system failure; it prints the same way, with the stack only at --log-level debug.

export const EXIT_ERROR = 125;

export class CtrnetError extends Error {
	override name = "CtrnetError";
	/** Process exit code; 125 like podman, except where DESIGN 4 says otherwise. */
	exitCode: number = EXIT_ERROR;
}

/** Bad flags, bad values, bad names: nothing was changed on the host. */
export class UsageError extends CtrnetError {
	override name = "UsageError";
}

/** Something named by the user does not exist. */
export class NotFoundError extends CtrnetError {
	override name = "NotFoundError";
}

/** The host already has what the user asked to create. */
export class ConflictError extends CtrnetError {
	override name = "ConflictError";
}

/** Several independent failures, reported together (teardown goes on past errors). */
export class MultiError extends CtrnetError {
	override name = "MultiError";
	constructor(readonly errors: Error[]) {
		super(errors.map((e) => e.message).join("; "));
	}
}

/** The text printed on stderr for an error that ends the process. */
export function formatError(err: unknown, withStack: boolean): string {
	const message = err instanceof Error ? err.message : String(err);
	// One line: a multi-line message (e.g. a plugin's stderr) is folded.
	const line = `Error: ${message.replace(/\s*\n\s*/g, " ").trim()}`;
	if (withStack && err instanceof Error && err.stack) return `${line}\n${err.stack}`;
	return line;
}

export function exitCodeOf(err: unknown): number {
	return err instanceof CtrnetError ? err.exitCode : EXIT_ERROR;
}
