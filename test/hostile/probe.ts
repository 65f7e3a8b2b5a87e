// Loaded with `node --import` into every child of the hostile-input corpus (./run.ts): when the process
// exits, for any reason but SIGKILL, it writes its peak memory and CPU time to file descriptor 3, which
// the runner reads. Nothing else: the child's own behaviour is untouched.
import { writeSync } from "node:fs";

process.on("exit", () => {
  const u = process.resourceUsage();
  try {
    writeSync(3, JSON.stringify({ maxRssKB: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 }) + "\n");
  } catch {
    // no fd 3: run by hand
  }
});
