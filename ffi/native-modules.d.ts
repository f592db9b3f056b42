// Shared objects built by ffi/build-native and embedded in the executable as files
// (`import so from "./build/x.so" with { type: "file" }`): the import is the file's path.
declare module "*.so" {
	const path: string;
	export default path;
}
