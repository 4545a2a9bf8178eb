#!/usr/bin/env bash
# Writes src/Daemon/image-order.txt: the managed methods of the Native AOT image that a daemon runs
# once it is up, most called first, then those only start-up runs. The image's build (IlcOrderFile in
# the daemon's csproj) lays them out first and together, so the code a running daemon keeps resident,
# and start-up's, is a few dense pages instead of one 64 KiB fault-around window in nearly every part of
# the image (bench/RESULTS-perf.md, twenty-second and twenty-fourth rounds).
#
#   tools/image-order.sh            collect (root: uprobes in tracefs, network namespaces; about half
#                                   an hour, most of it the kernel adding and removing 22k probes)
#
# How: every method of an unstripped image gets a uprobe in a tracefs group of its own (counting
# only, nothing traced); the bench runs small P1-P4 and P6 cases with ours alone. Its DUT hook
# (CALICO_BENCH_DUT_HOOK, called as `image-order.sh started|stopped PID`) takes the counts once a
# daemon's start-up is over, before any peer is up, and again when it stopped; what ran between the
# two is what a running daemon runs. Meanwhile `birdc show protocols` asks the daemon what
# calico-node's readiness check asks. Then a mesh node whose peers are down is reloaded, queried and
# scraped the same way. The probes are removed on exit, also on failure.
set -euo pipefail
tracing=/sys/kernel/tracing

# The hits of this collection's probes now: "event hits" lines.
hits() { { grep -F " $IMAGE_ORDER_IMAGE " "$tracing/uprobe_profile" || true; } | awk '{ e = $2; sub(".*/", "", e); print e, $3 }'; }

case "${1:-collect}" in
  started)
    # Start-up runs with the probes counting too, slower than it would: wait until it is over (the
    # counts still, the daemon waiting for peers that are not there yet), then take the counts.
    last=-1
    for _ in $(seq 1 120); do
      now=$(hits | awk '{ s += $2 } END { print s + 0 }')
      if [ $((now - last)) -lt 2000 ]; then break; fi
      last=$now; sleep 0.5
    done
    hits > "$IMAGE_ORDER_DIR/started.$2"
    # calico-node's readiness check and `calicoctl node status`, every half second while it runs.
    ctl=$(tr '\0' '\n' < "/proc/$2/cmdline" | sed -n '/^-s$/{n;p}')
    if [ -n "$ctl" ] && command -v birdc >/dev/null; then
      (while kill -0 "$2" 2>/dev/null; do
         birdc -s "$ctl" show protocols >/dev/null 2>&1 || true
         birdc -s "$ctl" show status >/dev/null 2>&1 || true
         sleep 0.5
       done) </dev/null >/dev/null 2>&1 &
    fi
    exit 0 ;;
  stopped)
    # What ran between the two counts, added to what earlier daemons of the same tier ran.
    tier=$IMAGE_ORDER_DIR/${IMAGE_ORDER_TIER:-steady}
    hits > "$IMAGE_ORDER_DIR/stopped.$2"
    touch "$tier"
    awk 'FILENAME ~ /started/ { before[$1] = $2; next } FILENAME ~ /stopped/ { d = $2 - before[$1]; if (d > 0) sum[$1] += d; next }
      { sum[$1] += $2 } END { for (e in sum) print e, sum[e] }' \
      "$IMAGE_ORDER_DIR/started.$2" "$IMAGE_ORDER_DIR/stopped.$2" "$tier" > "$tier.new"
    mv "$tier.new" "$tier"
    exit 0 ;;
  collect) ;;
  *) echo "usage: $0 [collect]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d /tmp/image-order.XXXXXX)
export IMAGE_ORDER_GROUP="calico_order_$$"
registered=0
idle=
# uprobe_events takes whole lines per write(2): a line split between two writes is refused.
write_events() {
  rm -f "$work"/chunk.*
  split -l 1000 "$1" "$work/chunk."
  for c in "$work"/chunk.*; do cat "$c" >> "$tracing/uprobe_events"; done
}
cleanup() {
  if [ "$registered" = 1 ]; then
    echo 0 > "$tracing/events/$IMAGE_ORDER_GROUP/enable" 2>/dev/null || true
    sed 's/^p:\([^ ]*\) .*/-:\1/' "$work/probes" > "$work/remove"
    write_events "$work/remove" || true
  fi
  if [ -n "$idle" ]; then kill "$idle" 2>/dev/null || true; fi
  ip netns delete "${IMAGE_ORDER_GROUP}_idle" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The image as the Dockerfile builds it, with its symbols, laid out without the current order.
dotnet build bench/LoadGen -c Release -v q -nologo >/dev/null
rm -rf src/Daemon/obj/Release/net10.0/linux-x64/native
dotnet publish src/Daemon/Calico.Bgp.Daemon.csproj -c Release -r linux-x64 -p:PublishAot=true \
  -p:StripSymbols=false -p:CalicoImageOrder=false -o "$work/image" -v q -nologo >/dev/null
rm -rf src/Daemon/obj/Release/net10.0/linux-x64/native
image=$work/image/calico-bgpd

# The managed code's sections, and the executable segment that maps them (for file offsets); hex
# read by the shell, since Debian's awk (mawk) has no strtonum.
code_lo=; code_hi=0
while read -r addr size; do
  lo=$((16#$addr)); hi=$((lo + 16#$size))
  if [ -z "$code_lo" ] || [ "$lo" -lt "$code_lo" ]; then code_lo=$lo; fi
  if [ "$hi" -gt "$code_hi" ]; then code_hi=$hi; fi
done < <(readelf -SW "$image" | sed -n 's/.*\] \(__managedcode\|__unbox\) *[A-Z]* *\([0-9a-f]*\) [0-9a-f]* \([0-9a-f]*\) .*/\2 \3/p')
read -r seg_off seg_addr < <(readelf -lW "$image" | awk '$1 == "LOAD" && / R E / { print $2, $3; exit }')
seg_off=$((seg_off)); seg_addr=$((seg_addr))

# One probe per address (folded identical bodies share one); every name at it goes into the order.
nm -t d --defined-only "$image" | awk -v lo="$code_lo" -v hi="$code_hi" -v so="$seg_off" -v sa="$seg_addr" \
  -v image="$image" -v group="$IMAGE_ORDER_GROUP" -v probes="$work/probes" -v names="$work/names" '
  $2 ~ /^[tT]$/ {
    a = $1 + 0; if (a < lo || a >= hi) next
    if (!(a in id)) { id[a] = n; printf "p:%s/f%d %s:0x%x\n", group, n, image, a - sa + so > probes; n++ }
    printf "f%d %s\n", id[a], $3 > names }'
echo "image-order: $(wc -l < "$work/probes") methods to count" >&2
registered=1
write_events "$work/probes"
echo 1 > "$tracing/events/$IMAGE_ORDER_GROUP/enable"

export CALICO_BGPD=$image CALICO_BENCH_DUT_HOOK=$repo/tools/image-order.sh IMAGE_ORDER_DIR=$work IMAGE_ORDER_IMAGE=$image
bench/LoadGen/bin/Release/net10.0/calico-loadgen --daemons ours --runs 1 \
  --scenarios P1,P2,P3,P4,P6 --p1 20000 --p1v6 5000 --p2 20,100 --p3 20 --p4 100,1000 --p4-seconds 5 \
  --p6 50 --p6-seconds 10 --timeout 300 --out "$work/results.md" >&2

# A mesh node whose peers are all down, as every node is while the cluster comes up: its
# connections time out and retry, and meanwhile it is reloaded (`configure`, SIGHUP), queried as
# operators do and scraped; none of that is in the bench. In a namespace of its own: the config's
# kernel protocol writes that namespace's table, never the host's.
ns="${IMAGE_ORDER_GROUP}_idle"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name eth1
ip -n "$ns" link add cali0a1b2c3d4e5 type veth peer name calipeer
for dev in eth0 eth1 cali0a1b2c3d4e5 calipeer; do ip -n "$ns" link set "$dev" up; done
ip -n "$ns" addr add 10.192.0.2/24 dev eth0
ip -n "$ns" route add 10.244.1.7/32 dev cali0a1b2c3d4e5 scope link
cp -r ../shared/calico-bird-configs/mesh/ipip-always "$work/conf"
# The counts before this daemon starts: what its start-up runs is the difference when it is up.
hits > "$work/before-idle"
ip netns exec "$ns" "$image" -R -d -c "$work/conf/bird.cfg" -s "$work/bird.ctl" --metrics 127.0.0.1:9091 \
  > "$work/idle.log" 2>&1 &
idle=$!
IMAGE_ORDER_TIER=idle "$repo/tools/image-order.sh" started "$idle"
# Start-up's own methods: the mesh node's start-up (a Calico config) and the bench's first daemon's (the
# counts from the probes' start to its start-up's end are its start-up alone).
first=$(ls -tr "$work"/started.* | head -1)
awk 'FILENAME ~ /before-idle/ { before[$1] = $2; next } FILENAME ~ /started/ && FNR == 1 { file++ }
  file == 1 { sum[$1] += $2; next } { d = $2 - before[$1]; if (d > 0) sum[$1] += d }
  END { for (e in sum) print e, sum[e] }' "$work/before-idle" "$first" "$work/started.$idle" > "$work/startup"
for round in $(seq 1 10); do
  for path in metrics livez readyz; do ip netns exec "$ns" curl -s -o /dev/null "http://127.0.0.1:9091/$path" || true; done
  for cmd in "show protocols all" "show route" "show route all" "show status" "show interfaces"; do
    birdc -s "$work/bird.ctl" $cmd > /dev/null 2>&1 || true
  done
  case $round in
    3) birdc -s "$work/bird.ctl" configure > /dev/null 2>&1 || true ;;
    6) kill -HUP "$idle" ;;
  esac
  sleep 2
done
kill -TERM "$idle"; wait "$idle" || true
stopped=$idle; idle=
IMAGE_ORDER_TIER=idle "$repo/tools/image-order.sh" stopped "$stopped"
ip netns delete "$ns"

# Three tiers: what the bench's daemons ran, most called first, then what only the down mesh node ran,
# then what only start-up ran. The node's reloads run the config's parser, whose counts are high: ranked
# among the bench's methods they spread the per-route code over more pages (P2's peak RSS rose 0.5-2 MiB
# with one list). Start-up's methods together make start-up touch fewer of the image's 64 KiB windows:
# a small daemon's peak RSS is its start-up's (bench/RESULTS-perf.md, twenty-fourth round).
order_tier() {
  awk 'NR == FNR { if ($2 > 0) hits[$1] = $2; next } ($1 in hits) { print hits[$1], $2 }' "$1" "$work/names" \
    | sort -k1,1nr -k2,2 | awk '{ print $2 }'
}
# A tier's methods not in the order yet, appended to it.
append_tier() { order_tier "$1" | awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$work/order" - >> "$work/order"; }
touch "$work/idle"
order_tier "$work/steady" > "$work/order"
append_tier "$work/idle"
append_tier "$work/startup"
{
  echo "# Written by tools/image-order.sh on $(date -u +%Y-%m-%d) from $(git rev-parse --short HEAD): the managed"
  echo "# methods a running daemon called, most called first (IlcOrderFile in src/Daemon/Calico.Bgp.Daemon.csproj);"
  echo "# then those only a down mesh node ran; then those only start-up ran."
  cat "$work/order"
} > src/Daemon/image-order.txt
echo "image-order: $(wc -l < "$work/order") methods ran; src/Daemon/image-order.txt written" >&2
