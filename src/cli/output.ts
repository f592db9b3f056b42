// Printing results: JSON for data, aligned columns for people.
import { writeOut } from "../io";

export function printJson(value: unknown): void {
	writeOut(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns separated by three spaces, like podman's tables. */
export function formatTable(headers: string[], rows: string[][]): string {
	const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
	const line = (cells: string[]) =>
		cells
			.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
			.join("   ")
			.trimEnd();
	return [line(headers), ...rows.map(line)].join("\n");
}

export function printTable(headers: string[], rows: string[][]): void {
	writeOut(`${formatTable(headers, rows)}\n`);
}
