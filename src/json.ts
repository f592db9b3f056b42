// JSON that crosses a boundary: parse, validate with its zod schema, and on failure say what was
// wrong in one line (`<what>: <field path>: <problem>`). The one place that turns a zod issue
// into words, so every refusal of bad input reads the same.
import type * as z from "zod/mini";
import { UsageError } from "./errors";

/** JSON.parse, or undefined when the text is not JSON. */
export function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** The first issue as `path: message` (`(top level)` when the document itself is wrong). */
export function firstIssue(error: { issues: readonly z.core.$ZodIssue[] }): string {
	const issue = error.issues[0];
	const path = issue?.path.length ? issue.path.map(String).join(".") : "(top level)";
	return `${path}: ${issue?.message ?? "invalid"}`;
}

export type Checked<T> = { ok: true; data: T } | { ok: false; error: string };

/** Validates without throwing: the data, or the first issue in words. */
export function check<S extends z.ZodMiniType>(schema: S, value: unknown): Checked<z.infer<S>> {
	const r = schema.safeParse(value);
	return r.success ? { ok: true, data: r.data } : { ok: false, error: firstIssue(r.error) };
}

/**
 * A schema built on first use. Building a zod schema is a noticeable part of a command's start-up,
 * so a module that defines several builds only those the run touches.
 */
export function lazySchema<T>(build: () => T): () => T {
	let value: T | undefined;
	return () => {
		value ??= build();
		return value;
	};
}

type MakeError = (message: string) => Error;
const usage: MakeError = (m) => new UsageError(m);

/** Validates `value`; throws `<what>: <path>: <problem>` (a UsageError unless told otherwise). */
export function decode<S extends z.ZodMiniType>(
	schema: S,
	value: unknown,
	what: string,
	makeError: MakeError = usage,
): z.infer<S> {
	const r = check(schema, value);
	if (!r.ok) throw makeError(`${what}: ${r.error}`);
	return r.data;
}

/** Parses and validates `text`; throws `<what> is not JSON: …` or `<what>: <path>: <problem>`. */
export function decodeJson<S extends z.ZodMiniType>(
	schema: S,
	text: string,
	what: string,
	makeError: MakeError = usage,
): z.infer<S> {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (e) {
		throw makeError(`${what} is not JSON: ${(e as Error).message}`);
	}
	return decode(schema, json, what, makeError);
}
