#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, builds the solution with
# warnings as errors, checks formatting, and runs every test project. Namespace tests need root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/tools/setup.sh"
config=${CONFIGURATION:-Release}
dotnet restore Calico.Bgp.sln --nologo -v quiet
dotnet build Calico.Bgp.sln -c "$config" --no-restore --nologo -v quiet -warnaserror
dotnet format Calico.Bgp.sln --verify-no-changes --no-restore -v quiet
# The container image, as far as this machine can build it (no Docker engine here).
"$root/tools/check-image.sh"
log=$(mktemp)
status=0
# One assembly at a time keeps the two cores for the daemons under test; test classes inside an
# assembly still run in parallel.
dotnet test Calico.Bgp.sln -c "$config" --no-build --nologo -m:1 -- RunConfiguration.TestSessionTimeout=3000000 2>&1 | tee "$log" || status=$?
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
left=$(ip netns list | grep -c '^cb-' || true)
if [ "$left" -gt 0 ]; then
  echo "test: $left lab namespace(s) were left behind; cleanup is broken" >&2
  status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$skipped" -gt 0 ] && [ "${CI:-}" = "true" ]; then
  echo "test: skipped tests prove nothing in CI" >&2
  status=1
fi
exit $status
