// Preloaded (`node --import`) into a measured process: at exit it prints its own CPU time (its
// worker threads included) and peak RSS to stderr as one line `VL_RUSAGE {...}`, so the
// benchmarks can time a whole command's CPU.
import process from 'node:process';

process.on('exit', () => {
  const r = process.resourceUsage();
  process.stderr.write(
    `\nVL_RUSAGE ${JSON.stringify({ userUs: r.userCPUTime, sysUs: r.systemCPUTime, maxRssKiB: r.maxRSS })}\n`,
  );
});
