// C sources embedded in the binary as text (`import src from "./x.c" with { type: "text" }`).
declare module "*.c" {
	const text: string;
	export default text;
}
