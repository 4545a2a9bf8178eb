#!/usr/bin/env bash
# Whole-daemon benchmarks (P1-P4 and the generator self-check): ours beside BIRD 2, BIRD 1.6,
# GoBGP and FRR, written to bench/RESULTS.md with plots in bench/plots/.
#   bench/run.sh            3 runs per case, full sizes (about an hour)
#   bench/run.sh --quick    1 run per case, smaller sizes (about 15 minutes)
# Any other arguments go to calico-loadgen (see bench/README.md). Needs root (network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Daemon -c Release -v q -nologo
dotnet build bench/LoadGen -c Release -v q -nologo
# Ours as the image ships it: the Dockerfile's Native AOT publish (BENCH_BUILD=jit runs the JIT build
# the tests use instead).
if [ "${BENCH_BUILD:-aot}" = aot ]; then
  dotnet publish src/Daemon/Calico.Bgp.Daemon.csproj -c Release -r linux-x64 -p:PublishAot=true -p:DebugType=none -o bench/.aot -v q -nologo >/dev/null
  export CALICO_BGPD=$PWD/bench/.aot/calico-bgpd
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
nice -n 10 bench/LoadGen/bin/Release/net10.0/calico-loadgen "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
