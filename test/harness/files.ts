// File access for the tests that sit next to the code in src/ (fixtures, golden files): those folders
// must bundle for browsers, so their tests reach the file system through the test harness, never
// through a Node built-in imported in src/ itself.
export { readFileSync } from "node:fs";
