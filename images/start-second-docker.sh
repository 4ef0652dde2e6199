#!/usr/bin/env bash
# Start a second Docker engine beside the first, with its own socket, data root, exec root
# (so its own containerd) and bridge, and give it the images the bisect tests run:
#
#   images/start-second-docker.sh        prints the engine's address (unix://...) on stdout
#
# `repro bisect --jobs 2 --engine A --engine B` spreads its steps over two engines; its test
# (tests/bisect/test_bisect_demo.py) uses this engine when REPRO_SECOND_ENGINE names it.
#
# Why the flags:
#   --bridge repro-br2    its own bridge (created here): the first engine keeps docker0, and
#                         the two never hand out the same addresses
#   --default-address-pool  networks it makes (each sandbox's) come from its own range:
#                         both engines drawing on Docker's default pool would hand out the
#                         same subnet twice, and the host could route to only one of them
#   --iptables=false      the first engine owns the DOCKER chains; sandboxes need no NAT (repro
#                         reaches an app at its bridge address, and the app reports to repro on
#                         the bridge's gateway, both from this host); one FORWARD rule below
#                         lets a sandbox's containers reach each other
#   --ip=127.0.0.1        published ports listen on loopback only (network rule)
set -euo pipefail

NAME="${REPRO_SECOND_ENGINE_NAME:-docker-2}"
SOCKET="/var/run/$NAME.sock"
ADDRESS="unix://$SOCKET"
BRIDGE="${REPRO_SECOND_BRIDGE:-repro-br2}"
SUBNET="${REPRO_SECOND_SUBNET:-10.231.255.1/24}"
POOL="${REPRO_SECOND_POOL:-base=10.232.0.0/16,size=24}"
LOG_DIR="${REPRO_DOCKER_LOG_DIR:-/var/log/repro}"
LOG="$LOG_DIR/$NAME.log"
TIMEOUT="${REPRO_DOCKER_START_TIMEOUT:-60}"
IMAGES=(repro/demo-shop:2.1.0 repro/demo-shop:1.4.2 postgres:13 postgres:15)

log() { printf '[docker-2] %s\n' "$*" >&2; }
second() { docker -H "$ADDRESS" "$@"; }

[ "$(id -u)" = 0 ] || { log "starting dockerd needs root"; exit 1; }
docker info >/dev/null 2>&1 || { log "the first engine does not answer: start it first"; exit 1; }

if ! second info >/dev/null 2>&1; then
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
        ip addr add "$SUBNET" dev "$BRIDGE"
        ip link set "$BRIDGE" up
    fi
    pidfile="/var/run/$NAME.pid"
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile" 2>/dev/null || echo 0)" 2>/dev/null; then
        rm -f "$pidfile"
    fi
    # dockerd (20.10 to today) clears the default network its last run left in its network
    # store, and when --default-address-pool is set it then deletes the link named *docker0*
    # whatever --bridge says (removeDefaultBridgeInterface): the first engine's bridge, so
    # every container it starts afterwards fails with "could not find bridge docker0". The
    # store holds only this engine's throw-away sandbox networks, so start it empty.
    rm -f "/var/lib/$NAME/network/files/local-kv.db"
    had_docker0=0
    ip link show docker0 >/dev/null 2>&1 && had_docker0=1
    mkdir -p "$LOG_DIR"
    log "starting $NAME (log: $LOG)"
    setsid nohup dockerd --host "$ADDRESS" --data-root "/var/lib/$NAME" \
        --exec-root "/var/run/$NAME" --pidfile "$pidfile" --bridge "$BRIDGE" \
        --default-address-pool "$POOL" --iptables=false --ip=127.0.0.1 --storage-driver=overlay2 \
        >>"$LOG" 2>&1 </dev/null &
    deadline=$((SECONDS + TIMEOUT))
    until second info >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "$NAME did not answer within ${TIMEOUT}s; last lines of $LOG:"
            tail -30 "$LOG" >&2 || true
            exit 1
        fi
        sleep 0.5
    done
    if [ "$had_docker0" = 1 ] && ! ip link show docker0 >/dev/null 2>&1; then
        log "starting $NAME removed the first engine's bridge docker0; restart the first engine"
        exit 1
    fi
fi

# Without its own iptables rules, traffic between two containers of one of its networks (the
# app and its database) meets the first engine's FORWARD policy (DROP), since bridged frames
# pass netfilter. Accept exactly that: bridged within one bridge, both ends in this engine's
# pool. Routed traffic between two of its networks (two sandboxes) stays dropped.
POOL_NET="${POOL#base=}"
POOL_NET="${POOL_NET%%,*}"
forward=(FORWARD -s "$POOL_NET" -d "$POOL_NET" -m physdev --physdev-is-bridged -j ACCEPT)
iptables -C "${forward[@]}" 2>/dev/null || iptables -I "${forward[@]}"

# The images it lacks, copied from the first engine (shared layers travel once).
missing=()
for image in "${IMAGES[@]}"; do
    second image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "copying ${missing[*]}"
    docker save "${missing[@]}" | second load -q >/dev/null
fi
log "up at $ADDRESS with ${#IMAGES[@]} images"
printf '%s\n' "$ADDRESS"
