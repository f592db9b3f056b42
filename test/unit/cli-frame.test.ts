import { describe, expect, test } from "bun:test";
import { rejectUnknownFlags } from "../../src/cli/flags";
import { formatTable } from "../../src/cli/output";
import { CtrnetError, exitCodeOf, formatError, MultiError, UsageError } from "../../src/errors";
import { isRootlessportInvocation } from "../../src/rootlessport/dispatch";

describe("formatError", () => {
	test("one line, prefixed, no stack by default", () => {
		const e = new UsageError("bad thing\n  on two lines");
		expect(formatError(e, false)).toBe("Error: bad thing on two lines");
		expect(formatError("plain", false)).toBe("Error: plain");
	});
	test("the stack only when asked (debug)", () => {
		const text = formatError(new Error("boom"), true);
		expect(text.split("\n")[0]).toBe("Error: boom");
		expect(text).toContain("at ");
	});
	test("exit code 125 for every failure", () => {
		expect(exitCodeOf(new UsageError("x"))).toBe(125);
		expect(exitCodeOf(new Error("x"))).toBe(125);
		const custom = new CtrnetError("x");
		custom.exitCode = 1;
		expect(exitCodeOf(custom)).toBe(1);
	});
	test("MultiError joins its messages", () => {
		expect(new MultiError([new Error("a"), new Error("b")]).message).toBe("a; b");
	});
});

describe("rootlessport dispatch", () => {
	test("argv0 basename rootlessport or containers-rootlessport", () => {
		expect(isRootlessportInvocation("rootlessport", [])).toBe(true);
		expect(isRootlessportInvocation("/usr/libexec/x/containers-rootlessport", [])).toBe(true);
		expect(isRootlessportInvocation("./ctrnet", ["rootlessport"])).toBe(true);
		expect(isRootlessportInvocation("/usr/bin/ctrnet", ["version"])).toBe(false);
		expect(isRootlessportInvocation("/x/rootlessport-not", [])).toBe(false);
	});
});

describe("rejectUnknownFlags", () => {
	const def = {
		id: { type: "positional" as const },
		name: { type: "string" as const },
		force: { type: "boolean" as const, alias: "f" },
		"keep-netns": { type: "boolean" as const },
	};
	test("accepts declared flags in every spelling", () => {
		expect(() => rejectUnknownFlags(["x", "--name", "n", "-f", "--keep-netns"], def)).not.toThrow();
		expect(() => rejectUnknownFlags(["--name=n", "--no-force", "x"], def)).not.toThrow();
	});
	test("refuses unknown flags and surplus positionals", () => {
		expect(() => rejectUnknownFlags(["--bogus"], def)).toThrow("unknown flag: --bogus");
		expect(() => rejectUnknownFlags(["--bogus=1"], def)).toThrow("unknown flag: --bogus");
		expect(() => rejectUnknownFlags(["a", "b"], def)).toThrow(/too many arguments/);
		expect(() => rejectUnknownFlags(["a", "b", "c"], def, 3)).not.toThrow();
		expect(() => rejectUnknownFlags(["--name"], def)).toThrow(/needs an argument/);
	});
	test("a string flag's value is not counted as a positional", () => {
		expect(() => rejectUnknownFlags(["--name", "n", "id"], def)).not.toThrow();
	});
});

test("formatTable aligns columns", () => {
	expect(formatTable(["A", "BB"], [["xxx", "y"]])).toBe("A     BB\nxxx   y");
});
