#!/usr/bin/env bash
# `npm run demo`: install, build, show what the engine knows about the bundled real host + guest
# trace pair (QEMU TCG, 4 vCPUs on 2 host cores, a barrier-heavy OpenMP program in the guest), then
# simulate the default scenario, analyse it, write its HTML report and print the DoP advice.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
node esbuild.mjs >/dev/null
pair=test/fixtures/real/quiet-passive-local
cli="node dist/cli.js"
echo "== host trace =="
$cli info "$pair/host.txt.gz"
echo
echo "== guest trace =="
$cli info "$pair/guest.txt.gz"
echo
echo "== host: the VM's threads (vCPU threads 'CPU n/TCG' and QEMU's main loop) =="
$cli tasks "$pair/host.txt.gz" --match '^(CPU [0-9]+/(KVM|TCG)|qemu-system)' --top 10
echo
echo "== guest: the OpenMP threads =="
$cli tasks "$pair/guest.txt.gz" --match 'omp_barrier' --top 8
echo
echo "== host + guest together: vCPU map, clock map, vCPU time, stalls, findings, DoP advice =="
$cli analyze --host "$pair/host.txt.gz" --guest "$pair/guest.txt.gz"
echo
echo "== the simulator: the talk's five runs on the default (small) preset =="
$cli simulate --compare
echo
echo "== the default scenario traced (host + guest text), analysed, and its HTML report =="
sim=.cache/demo-sim
report=.cache/demo-report.html
$cli simulate --policy spin --out "$sim" --force
$cli analyze --host "$sim/host.txt" --guest "$sim/guest.txt" --out "$report" --force >/dev/null
echo "HTML report: $(cd "$(dirname "$report")" && pwd)/$(basename "$report") (open it in a browser)"
echo
echo "== the DoP advice for that run =="
$cli analyze --host "$sim/host.txt" --guest "$sim/guest.txt" | sed -n '/^advice/,$p'
