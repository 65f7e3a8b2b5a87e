// writtingnns/node: the parts of the library that need Node (the file system). `import { loadMobyDick }
// from "writtingnns/node"`. Everything that also runs in a browser is in "writtingnns".

export * from "./data/node/index.js";
export { readHFFolder, writeHFFolder, type HFFolder, type HFFiles, type WriteHFOptions } from "./io/hf-folder.js";
export { launch, launchWithHost, type LaunchOptions } from "./distributed/launch-node.js";
