// Preloaded into a bench child (node --import): writes the process's true peak RSS (VmHWM, kB)
// to HJ_BENCH_RSS_FILE when it exits, however it exits normally.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.HJ_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    writeFileSync(file, m ? m[1] : String(process.resourceUsage().maxRSS));
  });
}
