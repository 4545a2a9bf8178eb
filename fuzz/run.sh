#!/usr/bin/env bash
# Fuzzes one input surface with AFL++ and SharpFuzz: fuzz/run.sh TARGET SECONDS
#   TARGET: bgp | netlink | config | control     SECONDS: how long afl-fuzz runs
# Installs what is missing (afl++ from Debian, the SharpFuzz instrumenter as a local dotnet tool),
# builds, instruments the assemblies under test, seeds the corpus, runs afl-fuzz nice'd, then prints
# executions, paths and findings. Crashes and hangs stay in fuzz/findings/TARGET/default/{crashes,hangs};
# replay one with: dotnet fuzz/findings/build/calico-bgp-fuzz.dll TARGET FILE
# If afl-fuzz stops with "Unable to communicate with fork server", the target died outright (a stack
# overflow): rerun with FUZZ_OUT_OF_PROCESS=1 so the input is saved as a crash.
set -euo pipefail

target=${1:?usage: fuzz/run.sh bgp|netlink|config|control SECONDS}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
tool_dir="$root/tools/sharpfuzz"
build="$here/findings/build"        # plain: seeds and replay (instrumented code needs AFL's shared memory)
afl_build="$here/findings/build-afl" # instrumented copy that afl-fuzz runs
work="$here/findings/$target"

case "$target" in
  bgp) assemblies=(Calico.Bgp.Speaker.dll Calico.Bgp.Rib.dll) ;;
  netlink) assemblies=(Calico.Bgp.Fib.dll Calico.Bgp.Rib.dll) ;;
  config) assemblies=(Calico.Bgp.Config.dll Calico.Bgp.Rib.dll) ;;
  control) assemblies=(calico-bgpd.dll Calico.Bgp.Config.dll Calico.Bgp.Rib.dll) ;;
  *) echo "unknown target '$target' (bgp, netlink, config, control)" >&2; exit 2 ;;
esac

if ! command -v afl-fuzz >/dev/null; then
  apt-get install -y afl++ || { apt-get update && apt-get install -y afl++; }
fi
if [ ! -x "$tool_dir/sharpfuzz" ]; then
  dotnet tool install --tool-path "$tool_dir" SharpFuzz.CommandLine --version 2.3.0
fi

# Instrumenting rewrites dlls in place and each target instruments its own set: a fresh copy per run.
rm -rf "$build" "$afl_build"
nice -n 19 dotnet publish "$here/Calico.Bgp.Fuzz.csproj" -c Release -o "$build" --nologo -v quiet
cp -r "$build" "$afl_build"
for a in "${assemblies[@]}"; do
  nice -n 19 "$tool_dir/sharpfuzz" "$afl_build/$a"
done

# Seeds: the committed corpus, plus (for the binary targets) what today's encoders write.
rm -rf "$work"
mkdir -p "$work/in"
cp -r "$here/corpus/$target/." "$work/in/" 2>/dev/null || true
if [ "$target" = bgp ] || [ "$target" = netlink ]; then
  dotnet "$build/calico-bgp-fuzz.dll" --seeds "$work/seeds"
  cp "$work/seeds/$target/"* "$work/in/"
fi

dict=()
[ -f "$here/dict/$target.dict" ] && dict=(-x "$here/dict/$target.dict")
# -t: a .NET start plus JIT of a new path can take a while; a real hang runs into it repeatedly.
# AFL_SKIP_BIN_CHECK: the binary is dotnet, instrumented assemblies are what AFL sees.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
status=0
nice -n 19 timeout --foreground -s INT $((seconds + 60)) \
  afl-fuzz -V "$seconds" -i "$work/in" -o "$work" -t 5000 -m none "${dict[@]}" \
  -- dotnet "$afl_build/calico-bgp-fuzz.dll" "$target" >"$work/afl.log" 2>&1 || status=$?

stats="$work/default/fuzzer_stats"
if [ ! -f "$stats" ]; then
  echo "afl-fuzz did not start (exit $status); see $work/afl.log" >&2
  tail -30 "$work/afl.log" >&2
  exit 1
fi
if grep -q "Unable to communicate with fork server" "$work/afl.log"; then
  echo "target:      $target"
  echo "FINDING:     the target process died outright (stack overflow?) after $(grep -c 'Fuzzing test case' "$work/afl.log") queue entries;"
  echo "             rerun with FUZZ_OUT_OF_PROCESS=1 to save the input; see $work/afl.log"
  exit 3
fi
crashes=$(find "$work/default/crashes" -type f -name 'id:*' | wc -l)
hangs=$(find "$work/default/hangs" -type f -name 'id:*' | wc -l)
field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "target:      $target"
echo "run time:    $(field run_time) s"
echo "executions:  $(field execs_done) ($(field execs_per_sec)/s)"
echo "paths:       $(field corpus_count) (found $(field corpus_found)), edges $(field edges_found)"
echo "crashes:     $crashes (saved), $(field saved_crashes) total"
echo "hangs:       $hangs"
if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
  echo "replay:      dotnet $build/calico-bgp-fuzz.dll $target $work/default/crashes/id:* $work/default/hangs/id:*"
  exit 3
fi
