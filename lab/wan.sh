#!/usr/bin/env bash
# WAN latency scenario, on this machine only. Puts the load generator in its
# own network namespace, joined to the host by a veth pair with private
# addresses (10.200.0.1 host side, 10.200.0.2 generator side), and delays
# every packet between them; RabbitMQ, MariaDB and the BEDS node stay on the
# host. Then runs lab/bench/wan.ts: one request in flight, echo vs BEDS, on
# the host path and on the WAN path. Traffic never leaves the machine.
#
# The delay is `tc netem delay` on both veth ends when the kernel has the
# netem qdisc; otherwise lab/bench/delay_proxy.ts holds each chunk for the
# same one-way delay (it runs in any case, because RabbitMQ listens on
# 127.0.0.1 only and the namespace cannot reach that address).
#
# Needs root, iproute2 (`ip netns`, `tc`) and the lab services on localhost.
# Usage: lab/wan.sh [ONE_WAY_DELAY_MS (default 10)] [WINDOW_MS (default 5000)]
set -euo pipefail
cd "$(dirname "$0")/.."
DELAY_MS=${1:-10}
WINDOW_MS=${2:-5000}
NS=bedswan$$
HOST_IF=bwh$$
GEN_IF=bwg$$
HOST_IP=10.200.0.1
GEN_IP=10.200.0.2
WAN_PORT=5672
LOCAL_PORT=${BEDS_WAN_LOCAL_PORT:-5679}
PIDS=()

[ "$(id -u)" = 0 ] || { echo "lab/wan.sh needs root (ip netns, veth, tc)"; exit 1; }
command -v ip >/dev/null || { echo "lab/wan.sh needs iproute2 (ip)"; exit 1; }

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true # removes the veth pair with it
  ip link del "$HOST_IF" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name "$GEN_IF"
ip link set "$GEN_IF" netns "$NS"
ip addr add "$HOST_IP/24" dev "$HOST_IF"
ip link set "$HOST_IF" up
ip netns exec "$NS" ip addr add "$GEN_IP/24" dev "$GEN_IF"
ip netns exec "$NS" ip link set "$GEN_IF" up
ip netns exec "$NS" ip link set lo up

PROXY_DELAY=$DELAY_MS
if tc qdisc add dev "$HOST_IF" root netem delay "${DELAY_MS}ms" 2>/dev/null &&
  ip netns exec "$NS" tc qdisc add dev "$GEN_IF" root netem delay "${DELAY_MS}ms" 2>/dev/null; then
  NOTE="tc netem ${DELAY_MS} ms each way"
  PROXY_DELAY=0
else
  tc qdisc del dev "$HOST_IF" root 2>/dev/null || true
  NOTE="no netem in this kernel: delay proxy ${DELAY_MS} ms each way"
fi
echo "WAN: namespace $NS, $GEN_IP -> $HOST_IP, $NOTE"

# The WAN path: namespace -> veth -> proxy on the host side of the veth -> RabbitMQ on 127.0.0.1.
deno run -A lab/bench/delay_proxy.ts --listen "$HOST_IP:$WAN_PORT" --target 127.0.0.1:5672 \
  --delay-ms "$PROXY_DELAY" &
PIDS+=($!)
# The local path goes through the same proxy code without delay, so both paths have the same hops.
deno run -A lab/bench/delay_proxy.ts --listen "127.0.0.1:$LOCAL_PORT" --target 127.0.0.1:5672 --delay-ms 0 &
PIDS+=($!)
sleep 2
ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$HOST_IP/$WAN_PORT" ||
  { echo "the namespace cannot reach $HOST_IP:$WAN_PORT"; exit 1; }

deno run -A lab/bench/wan.ts --netns "$NS" --wan "$HOST_IP:$WAN_PORT" --local "127.0.0.1:$LOCAL_PORT" \
  --delay-note "$NOTE" --duration "$WINDOW_MS"
