#!/usr/bin/env bash
# What CI can check of the image without a Docker engine: a lint of the Dockerfile, then the
# Dockerfile's own publish commands run here, and the binaries they make exercised under the
# names calico-node uses. Prints the binaries' size and the daemon's idle RSS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
df=Dockerfile
fail() { echo "check-image: $*" >&2; exit 1; }

# Lint: pinned base images, no remote ADD, every stage named, the BIRD names present.
grep -E '^FROM ' "$df" | grep -q ':latest' && fail "a base image uses :latest"
# Registry images (with a '/') need a version tag; other FROMs name earlier stages.
grep -E '^FROM [^ ]*/' "$df" | grep -vqE ':[0-9]' && fail "a base image has no version tag"
grep -qE '^ADD +https?://' "$df" && fail "ADD from a URL; use a package or COPY"
grep -E '^FROM ' "$df" | grep -vqE ' AS [a-z-]+$' && fail "every stage needs a name"
for name in bird bird6 birdcl birdcl6; do
  grep -q "/usr/local/bin/$name\b" "$df" || fail "the image lacks the $name name"
done
grep -q '^FROM base AS calico-node' <(grep -E '^FROM ' "$df" | tail -1) || fail "the default (last) stage must be the calico-node drop-in"

# The build stage's publish commands, exactly as the Dockerfile runs them, into a scratch folder.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mapfile -t publishes < <(grep -oE 'dotnet publish [^&\\]+' "$df" | sed "s| -o /out| -o $out|")
[ ${#publishes[@]} -eq 2 ] || fail "expected two publish commands, found ${#publishes[@]}"
for cmd in "${publishes[@]}"; do
  eval "$cmd --nologo -v quiet" >/dev/null
done
for bin in calico-bgpd calico-bgpc; do
  [ -x "$out/$bin" ] || fail "$bin was not published"
done
ln -s calico-bgpd "$out/bird"
ln -s calico-bgpd "$out/bird6"
ln -s calico-bgpc "$out/birdcl"

# The names behave: bird -p on a Calico config, bird6 on its IPv6 twin, --version, birdcl's error.
cfgs="$root/../shared/calico-bird-configs/mesh/communities"
"$out/bird" -p -c "$cfgs/bird.cfg" || fail "bird -p rejected $cfgs/bird.cfg"
"$out/bird6" -p -c "$cfgs/bird6.cfg" || fail "bird6 -p rejected $cfgs/bird6.cfg"
"$out/bird" --version 2>&1 | grep -q '^BIRD version v0.3.3+birdv1.6.8' || fail "bird --version"
if "$out/birdcl" -s "$out/none.ctl" show status >/dev/null 2>&1; then fail "birdcl succeeded without a daemon"; fi

# Idle RSS of the daemon with a small config, and the sizes, for the README.
printf 'router id 10.0.0.1;\nprotocol device { scan time 2; }\nprotocol static { route 10.60.1.0/24 blackhole; }\n' > "$out/idle.cfg"
"$out/calico-bgpd" -d -c "$out/idle.cfg" -s "$out/idle.ctl" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 150); do [ -S "$out/idle.ctl" ] && break; sleep 0.2; done
# Trimming must not have cut what runs only at run time (options, logging, the control socket):
# the published client asks the published daemon, as calico-node's probe does.
for _ in $(seq 1 50); do "$out/birdcl" -s "$out/idle.ctl" show status 2>/dev/null | grep -q 'Daemon is up and running' && break; sleep 0.2; done
"$out/birdcl" -s "$out/idle.ctl" show status | grep -q 'Daemon is up and running' || { kill "$pid"; fail "the published daemon does not answer show status"; }
sleep 2
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill "$pid"
wait "$pid" || true
# The lab's tests that run ours as a process, against the published binaries: AOT must not have cut
# anything the JIT build's tests exercise (process life, every interop test: peers, reloads, kernel
# routes, metrics, the control socket beside BIRD 1.6). Needs the test projects built (tools/test.sh
# builds them first); about 2 minutes.
if [ "${CHECK_IMAGE_TESTS:-1}" = 1 ]; then
  config=${CONFIGURATION:-Release}
  for spec in "tests/Daemon.Tests|FullyQualifiedName~DaemonProcessTests" \
              "tests/Interop.Tests|FullyQualifiedName~Calico.Bgp.Interop.Tests"; do
    CALICO_BGPD="$out/calico-bgpd" CALICO_BGPC="$out/calico-bgpc" \
      dotnet test "${spec%%|*}" -c "$config" --no-build --nologo -v quiet --filter "${spec#*|}" \
        --logger "trx;LogFileName=check-image.trx" --results-directory "$out/results" >"$out/tests.log" 2>&1 \
      || { cat "$out/tests.log" >&2
           # The quiet console says which tests failed; the trx says why.
           # Every line of each message (an assertion's Expected/Actual follow its first line), and
           # the stack trace's lines in the test's own sources (which assertion failed).
           awk '/<Message>/ {p = 1} p {print} /<\/Message>/ {p = 0}
                /<StackTrace>/ {s = 1} s && /Tests\.cs:line/ {print} /<\/StackTrace>/ {s = 0}' "$out/results/check-image.trx" \
             | sed 's|.*<Message>||; s|</Message>.*||; s|<StackTrace> *||; s|^|check-image: |' | head -80 >&2 || true
           fail "tests against the published binaries failed (${spec%%|*})"; }
    grep -E '^(Passed|Failed)!' "$out/tests.log" | sed "s|^|check-image: published binaries: |"
  done
fi
echo "check-image: ok; calico-bgpd $(du -h "$out/calico-bgpd" | cut -f1), calico-bgpc $(du -h "$out/calico-bgpc" | cut -f1), idle RSS $((rss / 1024)) MiB"
