import { describe, expect, test } from "bun:test";
import { parseArgs } from "../../src/cli/argv";
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

describe("parseArgs: one strict pass", () => {
	const def = {
		id: { type: "positional" as const },
		name: { type: "string" as const },
		force: { type: "boolean" as const, alias: "f" },
		"keep-netns": { type: "boolean" as const },
		publish: { type: "string" as const, alias: "p", repeat: true as const },
	};
	test("declared flags in every spelling; repeatable ones in order", () => {
		const a = parseArgs(
			["x", "--name", "n", "-f", "--keep-netns", "-p", "1", "--publish=2", "-p3"],
			def,
		);
		expect(a).toEqual({
			_: ["x"],
			id: "x",
			name: "n",
			force: true,
			"keep-netns": true,
			publish: ["1", "2", "3"],
		});
		expect(parseArgs(["--name=n", "--no-force", "x"], def)).toMatchObject({
			force: false,
			id: "x",
		});
		expect(parseArgs(["--", "--name"], def)).toMatchObject({ _: ["--name"], id: "--name" });
	});
	test("refuses unknown flags, values on booleans, missing values and surplus positionals", () => {
		expect(() => parseArgs(["--bogus"], def)).toThrow("unknown flag: --bogus");
		expect(() => parseArgs(["--bogus=1"], def)).toThrow("unknown flag: --bogus");
		expect(() => parseArgs(["--keep-netns=maybe"], def)).toThrow(
			"flag --keep-netns takes no value",
		);
		expect(() => parseArgs(["--keep-netns=true"], def)).toThrow(/takes no value/);
		expect(() => parseArgs(["a", "b"], def)).toThrow(/too many arguments/);
		expect(parseArgs(["a", "b", "c"], def, 3)._).toEqual(["a", "b", "c"]);
		expect(() => parseArgs(["--name"], def)).toThrow(/needs an argument/);
		expect(() =>
			parseArgs([], { id: { type: "positional" as const, required: true as const } }),
		).toThrow("missing argument: ID");
	});
	test("a string flag's value is not counted as a positional", () => {
		expect(parseArgs(["--name", "n", "id"], def)).toMatchObject({ name: "n", id: "id" });
	});
});

test("formatTable aligns columns", () => {
	expect(formatTable(["A", "BB"], [["xxx", "y"]])).toBe("A     BB\nxxx   y");
});
