// Lossless JSON for documents ctrnet rewrites but does not own (a bundle's config.json): integers
// beyond 2^53 (u64 limits, seccomp argument masks) would silently change through a plain
// JSON.parse/stringify round trip. They are kept as their source text with JSON.rawJSON.

type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

const keepBigIntegers: Reviver = (_key, value, context) => {
	if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source) {
		// Only integers lose digits; a float's source text is what JSON.stringify gives back anyway.
		if (/^-?\d+$/.test(context.source)) {
			return (JSON as unknown as { rawJSON(s: string): unknown }).rawJSON(context.source);
		}
	}
	return value;
};

export function parseLossless(text: string): unknown {
	return JSON.parse(text, keepBigIntegers as Parameters<typeof JSON.parse>[1]);
}

/** Tab-indented like `runc spec` writes it, with a final newline. */
export function stringifyDocument(doc: unknown): string {
	return `${JSON.stringify(doc, null, "\t")}\n`;
}
