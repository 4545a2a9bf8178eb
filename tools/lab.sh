#!/usr/bin/env bash
# The lab: three nodes of ours in a full iBGP mesh, each in its own network namespace on one
# bridge, each advertising its own block. Prints every node's `show protocols` and kernel routes,
# then tears the lab down (pass --keep to leave it running; `tools/lab.sh --down` removes it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=cblab-
nodes=${LAB_NODES:-3}
work=${LAB_DIR:-/tmp/calico-bgp-lab}
keep=false

down() {
  for pidfile in "$work"/*/daemon.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" || true); do
    ip netns delete "$ns"
  done
}

case "${1:-}" in
  --down) down; exit 0 ;;
  --keep) keep=true ;;
  "") ;;
  *) echo "usage: $0 [--keep|--down]" >&2; exit 2 ;;
esac

[ "$(id -u)" = 0 ] || { echo "lab: run as root (it creates network namespaces)" >&2; exit 1; }
"$root/tools/setup.sh" >/dev/null
echo "lab: building"
dotnet build "$root/src/Daemon/Calico.Bgp.Daemon.csproj" -c Release --nologo -v quiet >/dev/null
dotnet build "$root/src/Cli/Calico.Bgp.Cli.csproj" -c Release --nologo -v quiet >/dev/null
daemon="$root/src/Daemon/bin/Release/net10.0/calico-bgpd"
client="$root/src/Cli/bin/Release/net10.0/calico-bgpc"

down
rm -rf "$work"
mkdir -p "$work"
$keep || trap down EXIT

ip netns add "${prefix}switch"
ip -n "${prefix}switch" link add br0 type bridge
ip -n "${prefix}switch" link set br0 up
for i in $(seq 1 "$nodes"); do
  ns="${prefix}node$i"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add name eth0 netns "$ns" type veth peer name "port$i" netns "${prefix}switch"
  ip -n "${prefix}switch" link set "port$i" master br0 up
  ip -n "$ns" addr add "10.99.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
done

for i in $(seq 1 "$nodes"); do
  addr="10.99.0.$i"
  peers=""
  for j in $(seq 1 "$nodes"); do
    [ "$i" = "$j" ] && continue
    peer="10.99.0.$j"
    peers+=$(sed -e "s/@PEER@/$peer/g" -e "s/@PEER_NAME@/${peer//./_}/g" -e "s/@ADDR@/$addr/g" "$root/conf/lab/peer.cfg.in")$'\n'
  done
  mkdir -p "$work/node$i"
  sed -e "s/@ADDR@/$addr/g" -e "s|@BLOCK@|10.65.$i.0/24|g" "$root/conf/lab/node.cfg.in" \
    | awk -v peers="$peers" '{ if ($0 == "@PEERS@") print peers; else print }' > "$work/node$i/bird.cfg"
  "$daemon" -p -c "$work/node$i/bird.cfg"
  ip netns exec "${prefix}node$i" "$daemon" -d -c "$work/node$i/bird.cfg" -s "$work/node$i/bird.ctl" \
    -P "$work/node$i/daemon.pid" >"$work/node$i/daemon.log" 2>&1 &
done

echo "lab: waiting for the mesh to establish"
want=$((nodes - 1))
for _ in $(seq 1 120); do
  ok=0
  for i in $(seq 1 "$nodes"); do
    n=$("$client" -s "$work/node$i/bird.ctl" show protocols 2>/dev/null | grep -c Established || true)
    [ "$n" = "$want" ] && ok=$((ok + 1))
  done
  [ "$ok" = "$nodes" ] && break
  sleep 0.5
done
# The kernel is programmed right after the routes arrive; give it a moment to settle.
sleep 1

status=0
for i in $(seq 1 "$nodes"); do
  echo
  echo "=== node$i (10.99.0.$i, block 10.65.$i.0/24) ==="
  "$client" -s "$work/node$i/bird.ctl" show protocols
  echo "--- kernel routes (ip route, proto bird) ---"
  ip -n "${prefix}node$i" route show proto bird
  got=$(ip -n "${prefix}node$i" route show proto bird | grep -c ' *10\.65\.' || true)
  if [ "$got" != "$nodes" ]; then
    echo "lab: node$i has $got of $nodes blocks in its kernel table" >&2
    status=1
  fi
done
if [ $status = 0 ]; then
  echo
  echo "lab: all $nodes nodes Established with each other's blocks in their kernel tables"
else
  for i in $(seq 1 "$nodes"); do echo "--- node$i log"; tail -n 30 "$work/node$i/daemon.log"; done
fi
$keep && echo "lab: left running in namespaces ${prefix}*; logs and sockets in $work; tools/lab.sh --down removes it"
exit $status
