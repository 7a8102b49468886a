#!/usr/bin/env bash
# NAT lab: two delegations behind separate NATs negotiate through a mediator relay, in Linux
# network namespaces (needs root, iproute2 and iptables).
#
#   scripts/nat-lab.sh up      build the topology (replacing any previous lab) and leave it up,
#                              with no Entente process: run your own with `ip netns exec`
#   scripts/nat-lab.sh down    stop every process in the lab namespaces and remove them (idempotent)
#   scripts/nat-lab.sh test    up + the scenario below + down; exit 0 only if every check passed
#
# Topology (nothing is connected to the host's own network namespace; no namespace has a route
# to any address outside the lab, so no packet can leave it):
#
#   ent-lab-host-a 10.77.1.10 --lan-- ent-lab-nat-a --wan 172.31.77.11 --+
#                               (10.77.1.1, MASQUERADE)                    |  ent-lab-pub: bridge
#                                                                          +- br0 172.31.77.1 = relay
#   ent-lab-host-b 10.77.2.10 --lan-- ent-lab-nat-b --wan 172.31.77.12 --+
#                               (10.77.2.1, MASQUERADE)
#
# Each router forwards LAN->WAN, lets back only ESTABLISHED,RELATED traffic, and drops anything
# unsolicited that arrives on its WAN side (INPUT too: without that, an early hole-punching packet
# makes MASQUERADE pick another source port, i.e. a symmetric NAT, and punching fails).
#
# Scenario of `test`:
#   setup    the chair (delegation A) convenes a negotiation and accredits delegation B; B imports
#            the record and joins locally; the relay and A import B's record. All offline.
#   phase 1  A and B run `entente up --relay ...` (DCUtR on); each posts a message at once, which
#            must reach the other within PHASE1_SECS; A and B must connect to each other through
#            the relay within CONNECT_SECS; then whether hole punching upgraded the connection is
#            reported (informational: it is not a failure to stay relayed).
#   phase 1b if hole punching made a direct connection: the relay is killed (SIGKILL) and messages
#            must still pass both ways within PHASE1_SECS; then the relay restarts (same home).
#   phase 2  both restart with --relay-only; A posts P2_COUNT messages of P2_SIZE bytes, one every
#            P2_INTERVAL_MS, over more than 2 minutes (libp2p's default circuit limit is 120 s and
#            128 KiB); every one must arrive in B's log, including those sent after 120 s, and B
#            must not have had to reconnect to A.
#   phase 3  both start again with --relay-only (so the relay is the only path between them: the
#            routers drop anything unsolicited and there is no route between the LANs); once they
#            talk, the relay is killed with SIGKILL; each posts a message, which must not reach the
#            other while the relay is down (DOWN_SECS); the relay restarts with the same home
#            (identity) and port; both members must reserve a slot on it again, the messages posted
#            during the outage must arrive, and new messages must pass both ways, each within
#            RECOVER_SECS of the restart. (Without --relay-only, a hole-punched direct connection
#            made in phase 1 could outlive the relay: nothing would then prove the relay was the path.)
#
# Environment:
#   ENTENTE_BIN      the entente binary (default: `cargo build -p entente-node`, target/debug/entente)
#   NAT_LAB_KEEP=1   keep the work directory (homes and logs) even when the test passes
#   NAT_LAB_LISTEN   own (default): members listen on their host's address; any: on 0.0.0.0, as
#                    `entente up` does by default
#   NAT_LAB_NODE_LOG, NAT_LAB_RELAY_LOG   RUST_LOG filters of the members and of the relay
#   NAT_LAB_RELAY_ARGS  extra `entente relay` options, e.g. "--max-circuit-secs 60" (a negative
#                    control: phase 2 must then fail)
#   NAT_LAB_STRICT=1 count WARN lines (misbehaviours of the binary that do not break the scenario)
#                    as failures
#   NAT_LAB_PHASE2=0 skip phase 2 (a 40-s check of the topology, phase 1 and hole punching)
#   NAT_LAB_PHASE3=0 skip phase 3 (the relay restart)
#   NAT_LAB_PHASE4=1 also run phase 4 (off by default: about 2.5 min): the relay vanishes silently
#                    (its host drops every packet on its port, so no FIN or RST reaches the members)
#                    for SILENT_SECS (120), then a new relay process is reachable; the members must
#                    reserve again and deliver within SILENT_RECOVER_SECS (30). Measured: 9 s. Before
#                    the node closed connections whose pings fail, it took 95 s: the members kept
#                    the dead connection until a TCP retransmission (backed off to ~2 min) met the
#                    new process's RST. Outages shorter than ~60 s (before pings give up) are
#                    recovered that way, within ~half the outage.
#   PHASE1_SECS (20), CONNECT_SECS (45), DCUTR_WAIT_SECS (35), P2_COUNT (24), P2_SIZE (50000),
#   P2_INTERVAL_MS (5600), P2_GRACE_SECS (20), DOWN_SECS (5), RECOVER_SECS (40)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ----- names and addresses (all private, and only ever assigned inside the lab namespaces) -----
NS_PUB=ent-lab-pub
NS_NAT_A=ent-lab-nat-a
NS_NAT_B=ent-lab-nat-b
NS_HOST_A=ent-lab-host-a
NS_HOST_B=ent-lab-host-b
ALL_NS=("$NS_HOST_A" "$NS_HOST_B" "$NS_NAT_A" "$NS_NAT_B" "$NS_PUB")

PUB_PREFIX=24
RELAY_IP=172.31.77.1
NAT_A_WAN=172.31.77.11
NAT_B_WAN=172.31.77.12
NAT_A_LAN=10.77.1.1
HOST_A_IP=10.77.1.10
NAT_B_LAN=10.77.2.1
HOST_B_IP=10.77.2.10
LAN_PREFIX=24
LAN_A=10.77.1.0/24
LAN_B=10.77.2.0/24
RELAY_PORT=7421
NODE_PORT=7420

PHASE1_SECS=${PHASE1_SECS:-20}
P2_COUNT=${P2_COUNT:-24}
P2_SIZE=${P2_SIZE:-50000}
P2_INTERVAL_MS=${P2_INTERVAL_MS:-5600}
P2_GRACE_SECS=${P2_GRACE_SECS:-20}
DCUTR_WAIT_SECS=${DCUTR_WAIT_SECS:-35}
CONNECT_SECS=${CONNECT_SECS:-45}
DOWN_SECS=${DOWN_SECS:-5}
RECOVER_SECS=${RECOVER_SECS:-40}
# Where the members listen: their own address (default), or "any" for 0.0.0.0 as `entente up` does
# by default (see the report at the end of phase 1 when hole punching fails with it).
NAT_LAB_LISTEN=${NAT_LAB_LISTEN:-own}
NAT_LAB_PHASE2=${NAT_LAB_PHASE2:-1}
NAT_LAB_PHASE3=${NAT_LAB_PHASE3:-1}
NAT_LAB_PHASE4=${NAT_LAB_PHASE4:-0}
SILENT_SECS=${SILENT_SECS:-120}
SILENT_RECOVER_SECS=${SILENT_RECOVER_SECS:-30}
# libp2p's default relay limit: a circuit is cut after this long (and after 128 KiB).
LIBP2P_DEFAULT_CIRCUIT_SECS=120

# Log filters: the node's default for daemons, plus the relay server's circuit events (debug) on
# the relay and DCUtR's own reasons on the members.
RELAY_LOG=${NAT_LAB_RELAY_LOG:-'warn,entente_node=debug,libp2p_kad=error'}
NODE_LOG=${NAT_LAB_NODE_LOG:-'warn,entente_node=info,libp2p_kad=error,libp2p_dcutr=debug'}

# ----- output helpers ----------------------------------------------------------------------------
if [[ -t 1 ]]; then bold=$'\033[1m' red=$'\033[31m' green=$'\033[32m' yellow=$'\033[33m' off=$'\033[0m'
else bold='' red='' green='' yellow='' off=''; fi
start_ms=0
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
ms_s() { printf '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
elapsed() { local ms=$(( $(now_ms) - start_ms )); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }
step() { printf '\n%s== [%6ss] %s%s\n' "$bold" "$(elapsed)" "$*" "$off"; }
info() { printf '   %s\n' "$*"; }
die() { printf '%snat-lab: %s%s\n' "$red" "$*" "$off" >&2; exit 2; }

results=()
failures=0
warnings=0
pass() { results+=("PASS  $*"); printf '   %sPASS%s %s\n' "$green" "$off" "$*"; }
fail() { results+=("FAIL  $*"); failures=$((failures + 1)); printf '   %sFAIL%s %s\n' "$red" "$off" "$*"; }
note() { results+=("NOTE  $*"); printf '   %sNOTE%s %s\n' "$yellow" "$off" "$*"; }
# A misbehaviour of the binary that the lab reports without failing (NAT_LAB_STRICT=1: fails).
warn() {
  if [[ ${NAT_LAB_STRICT:-0} == 1 ]]; then fail "$*"; return; fi
  results+=("WARN  $*"); warnings=$((warnings + 1)); printf '   %sWARN%s %s\n' "$yellow" "$off" "$*"
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ----- prerequisites -----------------------------------------------------------------------------
check_prereqs() {
  local missing=()
  [[ $EUID -eq 0 ]] || die "must run as root (network namespaces and iptables): sudo $0 ${*:-test}"
  command -v ip >/dev/null || missing+=("ip (Debian package iproute2)")
  command -v iptables >/dev/null || missing+=("iptables (Debian package iptables)")
  command -v timeout >/dev/null || missing+=("timeout (Debian package coreutils)")
  if [[ ${1:-} == test ]]; then
    command -v jq >/dev/null || missing+=("jq (Debian package jq)")
  fi
  if ((${#missing[@]})); then
    printf '%snat-lab: missing prerequisites:%s\n' "$red" "$off" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    printf 'Install them with: apt-get install iproute2 iptables jq\n' >&2
    exit 2
  fi
  ip netns list >/dev/null 2>&1 || die "'ip netns' does not work here (a kernel without network namespaces?)"
}

# ----- topology ----------------------------------------------------------------------------------
lab_exists() {
  local ns
  for ns in "${ALL_NS[@]}"; do
    [[ -e /run/netns/$ns ]] && return 0
  done
  return 1
}

# Stops every process running in a lab namespace (only ours can be there), then deletes them.
lab_down() {
  local ns pids pid tries
  for ns in "${ALL_NS[@]}"; do
    [[ -e /run/netns/$ns ]] || continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  done
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    pids=""
    for ns in "${ALL_NS[@]}"; do
      [[ -e /run/netns/$ns ]] && pids+="$(ip netns pids "$ns" 2>/dev/null || true) "
    done
    [[ -z ${pids// /} ]] && break
    if ((tries == 10)); then
      for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    else
      sleep 0.3
    fi
  done
  for ns in "${ALL_NS[@]}"; do
    if [[ -e /run/netns/$ns ]]; then
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
}

# The router of one side: WAN on the public bridge, LAN to its host, NAT and a stateful firewall.
make_site() {
  local nat=$1 host=$2 port=$3 wan_ip=$4 lan_ip=$5 host_ip=$6 other_lan=$7
  ip -n "$NS_PUB" link add "$port" type veth peer name wan netns "$nat"
  ip -n "$NS_PUB" link set "$port" master br0 up
  ip -n "$nat" addr add "$wan_ip/$PUB_PREFIX" dev wan
  ip -n "$nat" link set wan up
  ip -n "$nat" link add lan type veth peer name eth0 netns "$host"
  ip -n "$nat" addr add "$lan_ip/$LAN_PREFIX" dev lan
  ip -n "$nat" link set lan up
  ip -n "$host" addr add "$host_ip/$LAN_PREFIX" dev eth0
  ip -n "$host" link set eth0 up
  # The host's only way out is its router. The router has no default route: it reaches the public
  # segment and its LAN, nothing else (in particular not the other LAN).
  ip -n "$host" route add default via "$lan_ip"
  in_ns "$nat" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$nat" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
  in_ns "$nat" iptables -P FORWARD DROP
  in_ns "$nat" iptables -A FORWARD -i lan -o wan -j ACCEPT
  in_ns "$nat" iptables -A FORWARD -i wan -o lan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  in_ns "$nat" iptables -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  in_ns "$nat" iptables -A INPUT -i wan -j DROP
  # Counters on the host (they accept what the default policy accepts anyway): packets to the
  # relay, to the other site's private network, and to anything else.
  in_ns "$host" iptables -A OUTPUT -o eth0 -d "$RELAY_IP" -j ACCEPT
  in_ns "$host" iptables -A OUTPUT -o eth0 -d "$other_lan" -j ACCEPT
  in_ns "$host" iptables -A OUTPUT -o eth0 -j ACCEPT
}

# Packets a host sent since the last reset: "to-relay to-the-other-LAN elsewhere".
host_packets() { # ns other-lan
  in_ns "$1" iptables -nvxL OUTPUT | awk -v r="$RELAY_IP" -v o="$2" '
    $3 == "ACCEPT" && $9 == r {a = $1} $3 == "ACCEPT" && $9 == o {b = $1}
    $3 == "ACCEPT" && $9 == "0.0.0.0/0" {c = $1} END {print a + 0, b + 0, c + 0}'
}
reset_host_counters() { in_ns "$NS_HOST_A" iptables -Z OUTPUT && in_ns "$NS_HOST_B" iptables -Z OUTPUT; }

lab_up() {
  if lab_exists; then
    info "leftover lab namespaces found: removing them first"
    lab_down
  fi
  local ns
  for ns in "${ALL_NS[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # IPv4 only: no IPv6 link-local chatter, no v6 path around the NATs.
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
  done
  ip -n "$NS_PUB" link add br0 type bridge
  ip -n "$NS_PUB" addr add "$RELAY_IP/$PUB_PREFIX" dev br0
  ip -n "$NS_PUB" link set br0 up
  make_site "$NS_NAT_A" "$NS_HOST_A" pa "$NAT_A_WAN" "$NAT_A_LAN" "$HOST_A_IP" "$LAN_B"
  make_site "$NS_NAT_B" "$NS_HOST_B" pb "$NAT_B_WAN" "$NAT_B_LAN" "$HOST_B_IP" "$LAN_A"
  # Byte counters on the relay's host (they accept what the default policy accepts anyway).
  local wan
  for wan in "$NAT_A_WAN" "$NAT_B_WAN"; do
    in_ns "$NS_PUB" iptables -A INPUT -s "$wan" -p tcp --dport "$RELAY_PORT" -j ACCEPT
    in_ns "$NS_PUB" iptables -A OUTPUT -d "$wan" -p tcp --sport "$RELAY_PORT" -j ACCEPT
  done
}

# Bytes (IP) that the relay received from / sent to a router's WAN address since the last reset.
relay_bytes_from() { in_ns "$NS_PUB" iptables -nvxL INPUT | awk -v a="$1" '$8 == a {print $2}'; }
relay_bytes_to() { in_ns "$NS_PUB" iptables -nvxL OUTPUT | awk -v a="$1" '$9 == a {print $2}'; }
reset_relay_counters() { in_ns "$NS_PUB" iptables -Z INPUT && in_ns "$NS_PUB" iptables -Z OUTPUT; }

print_topology() {
  cat <<EOF
   public segment  $NS_PUB: bridge br0, relay address $RELAY_IP (ports $RELAY_PORT tcp+udp)
   site A          $NS_HOST_A $HOST_A_IP -> $NS_NAT_A (LAN $NAT_A_LAN, WAN $NAT_A_WAN, MASQUERADE)
   site B          $NS_HOST_B $HOST_B_IP -> $NS_NAT_B (LAN $NAT_B_LAN, WAN $NAT_B_WAN, MASQUERADE)
   run a command in a namespace: ip netns exec $NS_HOST_A <command>
EOF
}

# ----- reachability checks -----------------------------------------------------------------------
can_ping() { in_ns "$1" ping -n -c 1 -W 1 "$2" >/dev/null 2>&1; }
# A TCP connection from a namespace: succeeds only if the SYN reaches a listener and is answered.
can_tcp() { in_ns "$1" timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" >/dev/null 2>&1; }

expect_reach() { # what ns kind target...
  local what=$1 ns=$2 kind=$3; shift 3
  if "can_$kind" "$ns" "$@"; then pass "$what"; else fail "$what"; fi
}
expect_no_reach() {
  local what=$1 ns=$2 kind=$3; shift 3
  if "can_$kind" "$ns" "$@"; then fail "$what"; else pass "$what"; fi
}

check_isolation() {
  if command -v ping >/dev/null; then
    expect_reach "host A reaches the relay (ping $RELAY_IP)" "$NS_HOST_A" ping "$RELAY_IP"
    expect_reach "host B reaches the relay (ping $RELAY_IP)" "$NS_HOST_B" ping "$RELAY_IP"
    expect_no_reach "host A cannot ping host B's private address $HOST_B_IP" "$NS_HOST_A" ping "$HOST_B_IP"
    expect_no_reach "host B cannot ping host A's private address $HOST_A_IP" "$NS_HOST_B" ping "$HOST_A_IP"
    expect_no_reach "the relay cannot ping host A's private address $HOST_A_IP" "$NS_PUB" ping "$HOST_A_IP"
    expect_no_reach "router B drops unsolicited pings on its WAN side ($NAT_B_WAN)" "$NS_PUB" ping "$NAT_B_WAN"
  else
    note "ping is not installed (Debian package iputils-ping): ICMP isolation checks skipped; TCP checks run in phase 1"
  fi
}

# With B's node listening on $NODE_PORT: nothing outside site B may open a connection to it.
check_tcp_isolation() {
  expect_reach "host A opens a TCP connection to the relay ($RELAY_IP:$RELAY_PORT)" "$NS_HOST_A" tcp "$RELAY_IP" "$RELAY_PORT"
  expect_no_reach "host A cannot open a TCP connection to B's node ($HOST_B_IP:$NODE_PORT)" "$NS_HOST_A" tcp "$HOST_B_IP" "$NODE_PORT"
  expect_no_reach "the public side cannot open a TCP connection through NAT B ($NAT_B_WAN:$NODE_PORT)" "$NS_PUB" tcp "$NAT_B_WAN" "$NODE_PORT"
}

# ----- the scenario ------------------------------------------------------------------------------
work=""
ha="" hb="" hr=""
relay_pid=""
a_pid=""
b_pid=""
poller=""
declare -a logs=()

ent() { # ns home args...
  local ns=$1 home=$2; shift 2
  in_ns "$ns" "$ENTENTE_BIN" --home "$home" "$@"
}

find_binary() {
  if [[ -n ${ENTENTE_BIN:-} ]]; then
    [[ -x $ENTENTE_BIN ]] || die "ENTENTE_BIN=$ENTENTE_BIN is not an executable file"
    ENTENTE_BIN=$(cd "$(dirname "$ENTENTE_BIN")" && pwd)/$(basename "$ENTENTE_BIN")
    return
  fi
  command -v cargo >/dev/null || die "cargo not found: install Rust, or set ENTENTE_BIN to an entente binary"
  info "building: cargo build -p entente-node"
  (cd "$repo" && cargo build -q -p entente-node) || die "cargo build -p entente-node failed"
  ENTENTE_BIN="$repo/target/debug/entente"
}

# Starts a daemon in a namespace; its stdout and stderr go to files in $work.
start_daemon() { # var name ns args...
  local var=$1 name=$2 ns=$3; shift 3
  local filter=$NODE_LOG
  [[ $name == relay* ]] && filter=$RELAY_LOG
  # `ip netns exec` and `env` exec the binary: $! is the daemon's own pid.
  ip netns exec "$ns" env RUST_LOG="$filter" "$ENTENTE_BIN" "$@" >"$work/$name.out" 2>"$work/$name.log" &
  printf -v "$var" '%s' "$!"
  logs+=("$work/$name.log" "$work/$name.out")
}

stop_daemon() { # var
  local var=$1 pid=${!1} i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    info "pid $pid did not stop within 5 s of SIGTERM: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  printf -v "$var" '%s' ""
}

# wait_until SECS CMD...: polls CMD every 0.2 s; fails after SECS.
wait_until() {
  local limit_ms=$(( $(now_ms) + $1 * 1000 )); shift
  until "$@"; do
    (( $(now_ms) < limit_ms )) || return 1
    sleep 0.2
  done
}

log_has() { grep -q -- "$2" "$work/$1.log" 2>/dev/null; }
count_in() { grep -c -- "$2" "$work/$1.log" 2>/dev/null || true; }
alive() { kill -0 "${!1}" 2>/dev/null; }

# Texts of the plenary messages in a home, one per line (long texts are cut to their first 40 chars).
messages_of() { # ns home
  ent "$1" "$2" log "$NEG" --json 2>/dev/null | jq -r '.[] | select(.kind == "message") | .body.text // "" | .[0:40]'
}
has_message() { messages_of "$1" "$2" | grep -qF -- "$3"; }

setup_negotiation() {
  step "Setup: identities and the negotiation (offline)"
  ent "$NS_HOST_A" "$ha" init --name "Delegation A (chair)" >/dev/null
  ent "$NS_HOST_B" "$hb" init --name "Delegation B" >/dev/null
  A_PEER=$(ent "$NS_HOST_A" "$ha" id --json | jq -r .peer_id)
  B_PEER=$(ent "$NS_HOST_B" "$hb" id --json | jq -r .peer_id)
  local b_delegation
  b_delegation=$(ent "$NS_HOST_B" "$hb" id --json | jq -r .delegation)
  NEG=$(ent "$NS_HOST_A" "$ha" negotiation create --title "NAT lab: joint statement" --json | jq -r .negotiation)
  ent "$NS_HOST_A" "$ha" invite "$NEG" --delegation "$b_delegation" --role delegation --name "Delegation B" --json >/dev/null
  ent "$NS_HOST_A" "$ha" export "$NEG" --out "$work/record-chair.ent" >/dev/null
  ent "$NS_HOST_B" "$hb" import "$work/record-chair.ent" >/dev/null
  ent "$NS_HOST_B" "$hb" join "$NEG" >/dev/null
  # B's join names its device: A and the relay learn it from B's record, so that each admits
  # the other from the first connection.
  ent "$NS_HOST_B" "$hb" export "$NEG" --out "$work/record-b.ent" >/dev/null
  ent "$NS_HOST_A" "$ha" import "$work/record-b.ent" >/dev/null
  info "negotiation $NEG"
  info "A = $A_PEER"
  info "B = $B_PEER"
}

start_relay() {
  step "Relay: entente relay --mailbox on $RELAY_IP (public segment)"
  launch_relay relay || return 1
  # The relay serves the members of the negotiations in its store (its identity is created when
  # it first starts, so the record is imported while it runs).
  ent "$NS_PUB" "$hr" import "$work/record-b.ent" >/dev/null
  info "imported B's record (charter, accreditation, B's join) into the relay's home"
}

# Starts the relay process (logs in $work/NAME.log and NAME.out) and waits for its address.
launch_relay() { # name
  local name=$1
  local relay_extra=()
  read -ra relay_extra <<<"${NAT_LAB_RELAY_ARGS:-}"
  start_daemon relay_pid "$name" "$NS_PUB" --home "$hr" relay \
    --listen "/ip4/$RELAY_IP/tcp/$RELAY_PORT" --listen "/ip4/$RELAY_IP/udp/$RELAY_PORT/quic-v1" \
    --external "/ip4/$RELAY_IP/tcp/$RELAY_PORT" --external "/ip4/$RELAY_IP/udp/$RELAY_PORT/quic-v1" \
    --mailbox "${relay_extra[@]}"
  relay_addr_printed() { grep -qoE "/ip4/$RELAY_IP/tcp/$RELAY_PORT/p2p/[1-9A-Za-z]+" "$work/$name.out" 2>/dev/null; }
  if ! wait_until 15 relay_addr_printed; then
    fail "the relay did not print its address within 15 s"
    return 1
  fi
  local addr
  addr=$(grep -oE "/ip4/$RELAY_IP/tcp/$RELAY_PORT/p2p/[1-9A-Za-z]+" "$work/$name.out" | head -1)
  if [[ -n ${RELAY_ADDR:-} && $addr != "$RELAY_ADDR" ]]; then
    fail "the restarted relay has another address ($addr, was $RELAY_ADDR): not the same identity"
    return 1
  fi
  RELAY_ADDR=$addr
  RELAY_LOG_FILE="$work/$name.log"
  info "relay address $RELAY_ADDR"
}

start_members() { # phase extra-args...
  local phase=$1; shift
  local ip_a=$HOST_A_IP ip_b=$HOST_B_IP
  if [[ $NAT_LAB_LISTEN == any ]]; then ip_a=0.0.0.0 ip_b=0.0.0.0; fi
  start_daemon a_pid "a-$phase" "$NS_HOST_A" --home "$ha" up \
    --listen "/ip4/$ip_a/tcp/$NODE_PORT" --listen "/ip4/$ip_a/udp/$NODE_PORT/quic-v1" \
    --relay "$RELAY_ADDR" --no-mdns "$@"
  start_daemon b_pid "b-$phase" "$NS_HOST_B" --home "$hb" up \
    --listen "/ip4/$ip_b/tcp/$NODE_PORT" --listen "/ip4/$ip_b/udp/$NODE_PORT/quic-v1" \
    --relay "$RELAY_ADDR" --no-mdns "$@"
}

# Both members reserved a slot on the relay and admitted each other (their connection is up).
members_connected() { # phase
  log_has "a-$1" "peer admitted peer=$B_PEER" && log_has "b-$1" "peer admitted peer=$A_PEER"
}

phase1() {
  step "Phase 1: both members up behind their NATs (DCUtR hole punching enabled)"
  start_members p1
  local t0 tc tA="" tB="" msg_a msg_b
  t0=$(now_ms)
  # Post at once, as a delegate would: the running nodes publish what the commands store.
  msg_a="phase 1: A to B $(date +%s)"
  msg_b="phase 1: B to A $(date +%s)"
  ent "$NS_HOST_A" "$ha" say "$NEG" "$msg_a" >/dev/null
  ent "$NS_HOST_B" "$hb" say "$NEG" "$msg_b" >/dev/null
  local limit=$((t0 + PHASE1_SECS * 1000))
  while (($(now_ms) < limit)) && [[ -z $tA || -z $tB ]]; do
    [[ -z $tA ]] && has_message "$NS_HOST_B" "$hb" "$msg_a" && tA=$(($(now_ms) - t0))
    [[ -z $tB ]] && has_message "$NS_HOST_A" "$ha" "$msg_b" && tB=$(($(now_ms) - t0))
    sleep 0.2
  done
  if [[ -n $tA ]]; then pass "A's message reached B's log $(ms_s "$tA") s after the nodes started"
  else fail "A's message did not reach B's log within $PHASE1_SECS s"; fi
  if [[ -n $tB ]]; then pass "B's message reached A's log $(ms_s "$tB") s after the nodes started"
  else fail "B's message did not reach A's log within $PHASE1_SECS s"; fi

  # The members' own connection (relayed first; DCUtR may then add a direct one).
  if wait_until $(((t0 + CONNECT_SECS * 1000 - $(now_ms)) / 1000)) members_connected p1; then
    tc=$(($(now_ms) - t0))
    pass "A and B connected to each other through the relay $(ms_s "$tc") s after they started"
    if ((tc > 10000)); then
      note "slow member-to-member connection ($(ms_s "$tc") s): relayed dials back off while another dial to the member (e.g. the DHT's, to its unreachable private address) is pending; NAT_LAB_NODE_LOG=debug,libp2p_kad=debug shows it"
    fi
  else
    fail "A and B did not connect to each other within $CONNECT_SECS s (no 'peer admitted' for each other)"
  fi
  # A member may reach the other before its own reservation is done (it dials the other's
  # circuit address), so wait for both reservations.
  both_reserved() { log_has a-p1 "reachable through the relay" && log_has b-p1 "reachable through the relay"; }
  if wait_until 10 both_reserved; then
    pass "both members reserved a slot on the relay"
  else
    fail "both members reserved a slot on the relay (no 'reachable through the relay' in a log)"
  fi
  alive a_pid || fail "A's node exited during phase 1"
  alive b_pid || fail "B's node exited during phase 1"

  # Hole punching starts as soon as the relayed connection is up; libp2p makes up to 3 attempts
  # about 10 s apart, so a failure can take ~30 s to be reported.
  dcutr_done() {
    log_has a-p1 "direct connection established by hole punching" ||
      log_has b-p1 "direct connection established by hole punching" ||
      { log_has a-p1 "hole punching failed" && log_has b-p1 "hole punching failed"; }
  }
  wait_until "$DCUTR_WAIT_SECS" dcutr_done || true
  local direct="" reason tried
  for side in a b; do
    log_has "$side-p1" "direct connection established by hole punching" && direct+="$side "
  done
  if [[ -n $direct ]]; then
    note "DCUtR: direct connection established (reported by: ${direct% })"
    DCUTR="direct connection established"
  else
    reason=$(cat "$work/a-p1.log" "$work/b-p1.log" | grep -h "hole punching failed" | head -1 |
      sed -e 's/.*staying on the relay: //; s/ peer=[^ ]*$//' || true)
    [[ -n $reason ]] || reason="no outcome logged within $DCUTR_WAIT_SECS s"
    # The addresses each side tried: an observed port other than the listen port means the NAT
    # mapping the relay saw was not the listening socket's (no port reuse on that dial).
    tried=$(cat "$work/a-p1.log" "$work/b-p1.log" | grep -ho 'addresses=\[[^]]*\]' | sort -u |
      sed -e 's/addresses=//; s#/p2p/[^],]*##g' | tr '\n' ' ' || true)
    [[ -z $tried ]] || reason+="; addresses tried: ${tried% }"
    if cat "$work/a-p1.log" "$work/b-p1.log" | grep -hoE 'addresses=\[[^]]*' | grep -oE '/(tcp|udp)/[0-9]+' |
      grep -qvE "/$NODE_PORT\$"; then
      reason+="; an observed port is not the listen port $NODE_PORT: a member's first dial to the relay did not reuse its listening port"
    fi
    local circuits
    circuits=$(grep -c CircuitReqAccepted "$work/relay.log" || true)
    if ((circuits > 1)); then
      reason+="; the relay opened $circuits circuits between A and B (both dialed at once), so hole punching ran on each relayed connection at the same time"
    fi
    note "DCUtR: stayed relayed ($reason)"
    DCUTR="stayed relayed ($reason)"
  fi

  step "Isolation while B's node listens on $HOST_B_IP:$NODE_PORT"
  check_tcp_isolation

  if [[ -n $direct ]]; then
    # With a hole-punched direct connection the relay is no longer on the path: killing it must
    # not stop A and B from talking (the relayed connection closes, the direct one stays).
    step "Phase 1b: the relay is killed (SIGKILL) while A and B hold a direct connection"
    kill -KILL "$relay_pid"
    wait "$relay_pid" 2>/dev/null || true
    relay_pid=""
    local t1 m1a m1b
    t1=$(now_ms)
    m1a="phase 1b: A to B, relay down" m1b="phase 1b: B to A, relay down"
    ent "$NS_HOST_A" "$ha" say "$NEG" "$m1a" >/dev/null
    ent "$NS_HOST_B" "$hb" say "$NEG" "$m1b" >/dev/null
    if wait_until "$PHASE1_SECS" both_have "$m1a" "$m1b"; then
      pass "with the relay dead, messages still passed both ways over the hole-punched connection ($(ms_s $(($(now_ms) - t1))) s)"
    else
      fail "with the relay dead, messages did not pass over the hole-punched connection within $PHASE1_SECS s"
    fi
    # Phase 2 needs the relay (same home, so the same identity and address).
    launch_relay relay-p1b || exit 1
  else
    note "phase 1b skipped: no hole-punched connection, so the relay is still their only path"
  fi

  step "Phase 1 done: stopping A and B"
  stop_daemon a_pid
  stop_daemon b_pid
}

# Records, about once a second, when each phase-2 message first shows in B's log; stops when
# the file "$work/stop-poller" appears.
arrival_poller() {
  local tag
  while [[ ! -e $work/stop-poller ]]; do
    ent "$NS_HOST_B" "$hb" log "$NEG" --json 2>/dev/null |
      jq -r '.[] | select(.kind == "message") | .body.text // "" | select(startswith("p2-")) | .[0:6]' |
      while read -r tag; do
        grep -q "^$tag " "$work/arrivals" || echo "$tag $(now_ms)" >>"$work/arrivals"
      done
    sleep 1
  done
}

phase2() {
  step "Phase 2: both restart with --relay-only; A sends $P2_COUNT x $P2_SIZE bytes over > 2 min"
  local relay_mark
  relay_mark=$(wc -l <"$RELAY_LOG_FILE")
  reset_host_counters
  start_members p2 --relay-only
  local started
  started=$(now_ms)
  if ! wait_until "$CONNECT_SECS" members_connected p2; then
    fail "A and B did not connect through the relay within $CONNECT_SECS s of starting with --relay-only"
    return 0
  fi
  local t0 i due text filler sent_after=0
  t0=$(now_ms)
  reset_relay_counters
  info "A and B connected through a relay circuit $(ms_s $((t0 - started))) s after starting; timings below count from then"
  filler=$(printf 'The parties reaffirm their commitment to a peaceful settlement of disputes. %.0s' $(seq 1 $((P2_SIZE / 70 + 2))))
  : >"$work/arrivals"
  rm -f "$work/stop-poller"
  arrival_poller &
  poller=$!
  : >"$work/sent"
  for ((i = 1; i <= P2_COUNT; i++)); do
    due=$((t0 + 2000 + (i - 1) * P2_INTERVAL_MS))
    while (($(now_ms) < due)); do sleep 0.1; done
    printf -v text 'p2-%02d sent at +%ds: ' "$i" $(((due - t0) / 1000))
    text+="$filler"
    text=${text:0:P2_SIZE}
    ent "$NS_HOST_A" "$ha" say "$NEG" "$text" >/dev/null
    echo "p2-$(printf %02d "$i") $(now_ms)" >>"$work/sent"
    (((due - t0) / 1000 >= LIBP2P_DEFAULT_CIRCUIT_SECS)) && sent_after=$((sent_after + 1))
    if ((i % 6 == 0)); then
      info "+$(((($(now_ms) - t0)) / 1000)) s: sent $i messages; $(wc -l <"$work/arrivals") arrived at B"
    fi
  done
  local last_sent grace_end
  last_sent=$(now_ms)
  grace_end=$((last_sent + P2_GRACE_SECS * 1000))
  while (($(now_ms) < grace_end)) && (($(wc -l <"$work/arrivals") < P2_COUNT)); do sleep 0.5; done
  touch "$work/stop-poller"
  wait "$poller" 2>/dev/null || true
  poller=""
  local from_a to_b
  from_a=$(relay_bytes_from "$NAT_A_WAN")
  to_b=$(relay_bytes_to "$NAT_B_WAN")

  alive a_pid || fail "A's node exited during phase 2"
  alive b_pid || fail "B's node exited during phase 2"
  local delivered bytes last_arrival age late_ok=0 tag sent_at arrived max_lat=0 lat
  delivered=$(messages_of "$NS_HOST_B" "$hb" | grep -c '^p2-' || true)
  bytes=$(ent "$NS_HOST_B" "$hb" log "$NEG" --json | jq '[.[] | select(.kind == "message") | .body.text // "" | select(startswith("p2-")) | utf8bytelength] | add // 0')
  last_arrival=$(sort -k2 -n "$work/arrivals" | tail -1 | cut -d' ' -f2)
  : >"$work/phase2-timings.txt"
  while read -r tag sent_at; do
    arrived=$(grep "^$tag " "$work/arrivals" | cut -d' ' -f2 || true)
    if [[ -z $arrived ]]; then
      printf '%s sent at +%s s, not seen at B\n' "$tag" "$(ms_s $((sent_at - t0)))" >>"$work/phase2-timings.txt"
      continue
    fi
    printf '%s sent at +%s s, seen in B'"'"'s log at +%s s\n' "$tag" "$(ms_s $((sent_at - t0)))" \
      "$(ms_s $((arrived - t0)))" >>"$work/phase2-timings.txt"
    lat=$((arrived - sent_at))
    ((lat > max_lat)) && max_lat=$lat
    (((sent_at - t0) / 1000 >= LIBP2P_DEFAULT_CIRCUIT_SECS)) && late_ok=$((late_ok + 1))
  done <"$work/sent"
  info "timings of the last messages (reference: A and B connected):"
  tail -n 4 "$work/phase2-timings.txt" | sed 's/^/     /'
  age=$(((${last_arrival:-$t0} - t0) / 1000))

  if ((delivered == P2_COUNT)); then pass "all $P2_COUNT phase-2 messages are in B's log"
  else fail "only $delivered of $P2_COUNT phase-2 messages reached B's log"; fi
  if ((sent_after > 0 && late_ok == sent_after)); then
    pass "the $sent_after message(s) sent after the ${LIBP2P_DEFAULT_CIRCUIT_SECS}-s mark arrived"
  else
    fail "$late_ok of the $sent_after message(s) sent after the ${LIBP2P_DEFAULT_CIRCUIT_SECS}-s mark arrived"
  fi
  if ((bytes > 1048576)); then pass "B received $bytes bytes of message text (> 1 MiB)"
  else fail "B received $bytes bytes of message text (not more than 1 MiB)"; fi
  local readmit
  readmit=$(count_in b-p2 "peer admitted peer=$A_PEER")
  if [[ $readmit == 1 ]]; then
    pass "B never had to reconnect to A (one admission in ${age} s)"
  else
    fail "B admitted A $readmit times during phase 2: the relayed connection was cut and redialled"
  fi
  if log_has a-p2 "direct connection established" || log_has b-p2 "direct connection established"; then
    fail "a direct connection appeared although both ran --relay-only"
  else
    pass "no direct connection with --relay-only"
  fi
  # --relay-only promises no direct dials: each host should send packets to the relay only.
  local side ns lan to_relay to_lan other
  for side in A B; do
    if [[ $side == A ]]; then ns=$NS_HOST_A lan=$LAN_B; else ns=$NS_HOST_B lan=$LAN_A; fi
    read -r to_relay to_lan other < <(host_packets "$ns" "$lan")
    if ((to_lan + other == 0)); then
      pass "host $side sent packets to the relay only ($to_relay) with --relay-only"
    else
      warn "host $side sent $((to_lan + other)) packet(s) elsewhere than the relay with --relay-only ($to_lan to the other delegation's private network $lan, $other to other addresses; $to_relay to the relay): direct dials despite --relay-only, to an address it should not know"
    fi
  done
  local opened closed synced_from_a synced_from_relay
  # Circuits the relay opened and closed during this phase, before A and B are stopped.
  opened=$(tail -n +"$((relay_mark + 1))" "$RELAY_LOG_FILE" | grep -c CircuitReqAccepted || true)
  closed=$(tail -n +"$((relay_mark + 1))" "$RELAY_LOG_FILE" | grep -c CircuitClosed || true)
  if ((opened > 0 && closed == 0)); then
    pass "the relay opened $opened circuit(s) between A and B and closed none during the phase"
  else
    fail "the relay opened $opened circuit(s) and closed $closed during the phase"
    tail -n +"$((relay_mark + 1))" "$RELAY_LOG_FILE" | grep -E 'Circuit(ReqAccepted|Closed)' | cut -c1-250 | sed 's/^/     /'
  fi
  synced_from_a=$(count_in b-p2 "synced events peer=$A_PEER")
  synced_from_relay=$(count_in b-p2 "synced events peer=${RELAY_ADDR##*/}")
  P2_SUMMARY=$(cat <<EOF
   phase 2 (relay only): $delivered/$P2_COUNT messages, $bytes bytes ($(awk "BEGIN{printf \"%.2f\", $bytes/1048576}") MiB) delivered to B
     over one relayed connection that was ${age} s old at the last delivery (libp2p default limit: ${LIBP2P_DEFAULT_CIRCUIT_SECS} s, 128 KiB);
     $late_ok message(s) sent after ${LIBP2P_DEFAULT_CIRCUIT_SECS} s; worst delivery delay seen ~$((max_lat / 1000)).$((max_lat % 1000 / 100)) s (1-s polling)
     the relay received $from_a bytes (IP) from NAT A and sent $to_b to NAT B in this phase (its own gossip copies included);
     relay log during phase 2: $opened circuit(s) opened, $closed closed; B's log: $synced_from_a sync batch(es) from A, $synced_from_relay from the relay's mailbox
EOF
)
  printf '%s\n' "$P2_SUMMARY"
  step "Phase 2 done: stopping A and B"
  stop_daemon a_pid
  stop_daemon b_pid
}

# Both members hold a reservation on the relay that was restarted (more "reachable through the
# relay" lines than before the kill).
both_rereserved() { # phase count-a count-b
  (($(count_in "a-$1" "reachable through the relay") > $2)) &&
    (($(count_in "b-$1" "reachable through the relay") > $3))
}
both_readmitted() { # phase count-a count-b
  (($(count_in "a-$1" "peer admitted peer=$B_PEER") > $2)) &&
    (($(count_in "b-$1" "peer admitted peer=$A_PEER") > $3))
}
both_have() { # text-at-B text-at-A
  has_message "$NS_HOST_B" "$hb" "$1" && has_message "$NS_HOST_A" "$ha" "$2"
}

phase3() {
  step "Phase 3: the relay is killed (SIGKILL) and restarted while A and B talk through it (--relay-only)"
  start_members p3 --relay-only
  local t0
  t0=$(now_ms)
  if ! wait_until "$CONNECT_SECS" members_connected p3; then
    fail "A and B did not connect through the relay within $CONNECT_SECS s of starting with --relay-only"
    return 0
  fi
  p3_reserved() { log_has a-p3 "reachable through the relay" && log_has b-p3 "reachable through the relay"; }
  if ! wait_until 10 p3_reserved; then
    fail "phase 3: both members reserved a slot on the relay (no 'reachable through the relay' in a log)"
    return 0
  fi
  local hello_a hello_b
  hello_a="p3: A before the crash $(date +%s)" hello_b="p3: B before the crash $(date +%s)"
  ent "$NS_HOST_A" "$ha" say "$NEG" "$hello_a" >/dev/null
  ent "$NS_HOST_B" "$hb" say "$NEG" "$hello_b" >/dev/null
  if ! wait_until "$PHASE1_SECS" both_have "$hello_a" "$hello_b"; then
    fail "phase 3: A and B did not exchange messages through the relay before it was killed"
    return 0
  fi
  info "A and B exchanged messages through the relay $(ms_s $(($(now_ms) - t0))) s after connecting"

  local res_a res_b adm_a adm_b tk
  res_a=$(count_in a-p3 "reachable through the relay")
  res_b=$(count_in b-p3 "reachable through the relay")
  adm_a=$(count_in a-p3 "peer admitted peer=$B_PEER")
  adm_b=$(count_in b-p3 "peer admitted peer=$A_PEER")
  kill -KILL "$relay_pid"
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=""
  tk=$(now_ms)
  info "relay killed (SIGKILL)"
  local down_a down_b
  down_a="p3: A while the relay is down" down_b="p3: B while the relay is down"
  ent "$NS_HOST_A" "$ha" say "$NEG" "$down_a" >/dev/null
  ent "$NS_HOST_B" "$hb" say "$NEG" "$down_b" >/dev/null
  # A negative check: for DOWN_SECS, neither message may appear on the other side.
  local passed=""
  while (($(now_ms) < tk + DOWN_SECS * 1000)); do
    if has_message "$NS_HOST_B" "$hb" "$down_a" || has_message "$NS_HOST_A" "$ha" "$down_b"; then
      passed=yes
      break
    fi
    sleep 0.5
  done
  if [[ -z $passed ]]; then
    pass "nothing passed between A and B for $DOWN_SECS s while the relay was down (the relay is their only path)"
  else
    fail "a message passed between A and B while the relay was down, although --relay-only leaves no other path"
  fi
  alive a_pid || fail "A's node exited when the relay died"
  alive b_pid || fail "B's node exited when the relay died"

  launch_relay relay-p3 || return 0
  local tr tres="" tadm="" tmsg="" tnew
  tr=$(now_ms)
  info "relay restarted with the same home and port $(ms_s $((tr - tk))) s after the kill"
  if wait_until "$RECOVER_SECS" both_rereserved p3 "$res_a" "$res_b"; then
    tres=$(($(now_ms) - tr))
    pass "both members reserved a slot on the restarted relay $(ms_s "$tres") s after it started"
  else
    fail "the members did not both reserve a slot on the restarted relay within $RECOVER_SECS s (a: $(count_in a-p3 "reachable through the relay") reservation(s) in all, b: $(count_in b-p3 "reachable through the relay"))"
  fi
  if wait_until $(((tr + RECOVER_SECS * 1000 - $(now_ms)) / 1000)) both_have "$down_a" "$down_b"; then
    tmsg=$(($(now_ms) - tr))
    pass "the messages posted while the relay was down arrived $(ms_s "$tmsg") s after it restarted"
  else
    fail "the messages posted while the relay was down did not both arrive within $RECOVER_SECS s of its restart"
  fi
  local new_a new_b tn
  new_a="p3: A after the restart" new_b="p3: B after the restart"
  tn=$(now_ms)
  ent "$NS_HOST_A" "$ha" say "$NEG" "$new_a" >/dev/null
  ent "$NS_HOST_B" "$hb" say "$NEG" "$new_b" >/dev/null
  if wait_until "$PHASE1_SECS" both_have "$new_a" "$new_b"; then
    tnew=$(($(now_ms) - tn))
    pass "new messages pass both ways again (in $(ms_s "$tnew") s)"
  else
    fail "new messages did not pass both ways within $PHASE1_SECS s after the relay's restart"
  fi
  # The members' own relayed connection: informative (messages also travel through the relay's
  # mailbox, which syncs with each member).
  if wait_until $(((tr + RECOVER_SECS * 1000 - $(now_ms)) / 1000)) both_readmitted p3 "$adm_a" "$adm_b"; then
    tadm=$(($(now_ms) - tr))
    pass "A and B reconnected to each other through the restarted relay $(ms_s "$tadm") s after it started"
  else
    fail "A and B did not reconnect to each other through the restarted relay within $RECOVER_SECS s"
  fi
  local from_a from_relay
  from_a=$(count_in b-p3 "synced events peer=$A_PEER")
  from_relay=$(count_in b-p3 "synced events peer=${RELAY_ADDR##*/}")
  after() { if [[ -n $1 ]]; then echo "$(ms_s "$1") s"; else echo never; fi; }
  P3_SUMMARY=$(cat <<EOF
   phase 3 (relay restart, --relay-only): the relay was down $(ms_s $((tr - tk))) s; after its restart:
     both reservations back after $(after "${tres:-}"), the outage's messages delivered after $(after "${tmsg:-}"),
     A and B reconnected after $(after "${tadm:-}"); B's log: $from_a sync batch(es) from A, $from_relay from the relay
EOF
)
  printf '%s\n' "$P3_SUMMARY"
  step "Phase 3 done: stopping A and B"
  stop_daemon a_pid
  stop_daemon b_pid
}

# Opt-in (NAT_LAB_PHASE4=1): the relay vanishes silently (a power cut or a dead link: its host
# drops every packet, so the members get neither FIN nor RST), comes back SILENT_SECS later with a
# new process, and the members must find out by themselves and recover. Reported with timings.
phase4() {
  step "Phase 4: the relay vanishes silently for $SILENT_SECS s (packets dropped, then a new process)"
  start_members p4 --relay-only
  if ! wait_until "$CONNECT_SECS" members_connected p4; then
    fail "phase 4: A and B did not connect through the relay within $CONNECT_SECS s"
    return 0
  fi
  p4_reserved() { log_has a-p4 "reachable through the relay" && log_has b-p4 "reachable through the relay"; }
  wait_until 10 p4_reserved || true
  local res_a res_b ts tr m_a m_b
  res_a=$(count_in a-p4 "reachable through the relay")
  res_b=$(count_in b-p4 "reachable through the relay")
  local rule
  for rule in "INPUT -p tcp --dport $RELAY_PORT" "INPUT -p udp --dport $RELAY_PORT" \
    "OUTPUT -p tcp --sport $RELAY_PORT" "OUTPUT -p udp --sport $RELAY_PORT"; do
    # shellcheck disable=SC2086
    in_ns "$NS_PUB" iptables -I $rule -j DROP
  done
  kill -KILL "$relay_pid"
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=""
  ts=$(now_ms)
  info "relay killed behind a firewall that drops everything on port $RELAY_PORT"
  m_a="p4: A during the silent outage" m_b="p4: B during the silent outage"
  ent "$NS_HOST_A" "$ha" say "$NEG" "$m_a" >/dev/null
  ent "$NS_HOST_B" "$hb" say "$NEG" "$m_b" >/dev/null
  while (($(now_ms) < ts + SILENT_SECS * 1000)); do sleep 0.5; done
  launch_relay relay-p4 || return 0
  for rule in "INPUT -p tcp --dport $RELAY_PORT" "INPUT -p udp --dport $RELAY_PORT" \
    "OUTPUT -p tcp --sport $RELAY_PORT" "OUTPUT -p udp --sport $RELAY_PORT"; do
    # shellcheck disable=SC2086
    in_ns "$NS_PUB" iptables -D $rule -j DROP
  done
  tr=$(now_ms)
  info "relay back (new process, same home and port) and reachable again after $(ms_s $((tr - ts))) s"
  local t_res="" t_msg=""
  if wait_until "$SILENT_RECOVER_SECS" both_rereserved p4 "$res_a" "$res_b"; then
    t_res=$(($(now_ms) - tr))
    pass "after a silent relay outage both members reserved a slot again $(ms_s "$t_res") s after it came back"
  else
    fail "after a silent relay outage the members did not both reserve a slot again within $SILENT_RECOVER_SECS s"
  fi
  if wait_until $(((tr + SILENT_RECOVER_SECS * 1000 - $(now_ms)) / 1000)) both_have "$m_a" "$m_b"; then
    t_msg=$(($(now_ms) - tr))
    pass "the messages posted during the silent outage arrived $(ms_s "$t_msg") s after the relay came back"
  else
    fail "the messages posted during the silent outage did not arrive within $SILENT_RECOVER_SECS s of the relay's return"
  fi
  step "Phase 4 done: stopping A and B"
  stop_daemon a_pid
  stop_daemon b_pid
}

show_logs() {
  local f
  printf '\n%sLogs are kept in %s%s\n' "$bold" "$work" "$off"
  for f in "${logs[@]}"; do
    [[ -s $f ]] || continue
    printf '\n%s--- tail of %s%s\n' "$bold" "$f" "$off"
    tail -n 15 "$f" | cut -c1-300
  done
}

cleanup_test() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n ${poller:-} ]]; then
    touch "$work/stop-poller"
    wait "$poller" 2>/dev/null
  fi
  stop_daemon a_pid
  stop_daemon b_pid
  stop_daemon relay_pid
  lab_down
  if [[ -n $work ]]; then
    if ((rc != 0 || failures > 0)); then
      show_logs
      ((failures > 0)) || printf '\n%sFAIL%s: NAT lab stopped on an unexpected error (exit %s)\n' "$red$bold" "$off" "$rc"
    elif [[ ${NAT_LAB_KEEP:-0} == 1 ]]; then
      printf '\nLogs and homes are kept in %s\n' "$work"
    else
      rm -rf "$work"
    fi
  fi
  exit "$rc"
}

cmd_test() {
  start_ms=$(now_ms)
  check_prereqs test
  find_binary
  work=$(mktemp -d "${TMPDIR:-/tmp}/entente-nat-lab.XXXXXX")
  ha="$work/delegation-a" hb="$work/delegation-b" hr="$work/relay"
  trap cleanup_test EXIT
  set -E
  trap 'printf "%snat-lab: command failed (line %s): %s%s\\n" "$red" "$LINENO" "$BASH_COMMAND" "$off" >&2' ERR
  trap 'exit 130' INT
  trap 'exit 143' TERM
  step "Topology"
  lab_up
  print_topology
  step "Isolation: no route between the private networks; routers drop unsolicited traffic"
  check_isolation
  setup_negotiation
  start_relay || exit 1
  phase1
  if [[ $NAT_LAB_PHASE2 == 1 ]]; then phase2; else note "phase 2 skipped (NAT_LAB_PHASE2=0)"; fi
  if [[ $NAT_LAB_PHASE3 == 1 ]]; then phase3; else note "phase 3 skipped (NAT_LAB_PHASE3=0)"; fi
  if [[ $NAT_LAB_PHASE4 == 1 ]]; then phase4; fi
  stop_daemon relay_pid

  local total
  total=$(elapsed)
  step "Summary"
  printf '%s\n' "${results[@]}" | sed 's/^/   /'
  printf '   DCUtR: %s\n' "${DCUTR:-not reached}"
  [[ -n ${P2_SUMMARY:-} ]] && printf '%s\n' "$P2_SUMMARY"
  [[ -n ${P3_SUMMARY:-} ]] && printf '%s\n' "$P3_SUMMARY"
  printf '   total time %s s; work directory %s\n' "$total" "$work"
  if ((failures == 0)); then
    printf '\n%sPASS%s: NAT lab, %d checks passed, %d warning(s)\n' "$green$bold" "$off" \
      "$(printf '%s\n' "${results[@]}" | grep -c '^PASS')" "$warnings"
  else
    printf '\n%sFAIL%s: NAT lab, %d failed check(s)\n' "$red$bold" "$off" "$failures"
    exit 1
  fi
}

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  up)
    check_prereqs up
    trap 'rc=$?; ((rc == 0)) || lab_down; exit $rc' EXIT
    lab_up
    echo "NAT lab is up:"
    print_topology
    echo "Tear it down with: $0 down"
    ;;
  down)
    [[ $EUID -eq 0 ]] || die "must run as root"
    command -v ip >/dev/null || die "ip not found (Debian package iproute2)"
    lab_down
    echo "NAT lab is down."
    ;;
  test)
    cmd_test
    ;;
  -h | --help | help)
    usage
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
