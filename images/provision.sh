#!/usr/bin/env bash
# Install the Debian packages the tests and image builds need, only those that are missing.
#
#   images/provision.sh            the default set (what .ci/run uses)
#   images/provision.sh PKG...     just these
#
# Why the care: a fresh machine has none of these; a machine handed back from an earlier
# session has them all, and then this must cost nothing (no apt-get update, ~0.1 s).
set -euo pipefail

DEFAULT_PACKAGES=(
    docker.io        # the engine (the machine only has the client)
    debootstrap      # images/build.sh builds every image from Debian packages
    openssh-server   # sshd_server fixture: the ssh target is tested against a real sshd
    busybox-static   # a busybox-only container image for "no package manager" target tests
    openssh-client
    iproute2         # ip/ss, used by tests of network namespaces and by testcontainers
    procps           # pgrep/ps, used by start-docker.sh and the process facet
    postgresql       # initdb/pg_ctl for the local_postgres fixture (no Docker needed)
    make
    patch            # fixtures/demo/stage.py applies the demo shop's fix and release patches
    npm              # fixtures/demo/build-images.sh installs the Node.js demo's locked packages
    shellcheck       # tests lint the fix scripts repro generates
    chromium         # tests open repro replay --html's page in a real headless browser
)
# A package whose command may come from elsewhere (a Node.js distribution bundles npm and
# conflicts with Debian's npm package): present when the command is.
declare -A SATISFIED_BY_COMMAND=([npm]=npm)
# Installed without their Recommends: npm's (build-essential, git, node-tap and theirs) are not
# needed to install plain-JavaScript packages and would triple the download.
declare -A NO_RECOMMENDS=([npm]=1)

log() { printf '[provision] %s\n' "$*" >&2; }

if [ $# -gt 0 ]; then packages=("$@"); else packages=("${DEFAULT_PACKAGES[@]}"); fi

missing=()
for p in "${packages[@]}"; do
    if [ -n "${SATISFIED_BY_COMMAND[$p]:-}" ] && command -v "${SATISFIED_BY_COMMAND[$p]}" >/dev/null 2>&1; then
        continue
    fi
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    log "all ${#packages[@]} packages present"
    exit 0
fi
[ "$(id -u)" = 0 ] || { log "missing ${missing[*]}, and installing needs root"; exit 1; }

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package scripts would start services (dockerd with default flags, sshd on port 22, a
# PostgreSQL cluster on 5432); a policy-rc.d answering 101 forbids that during the install,
# and is removed afterwards unless it was already there.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
fi
trap 'if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi' EXIT

plain=()
lean=()
for p in "${missing[@]}"; do
    if [ -n "${NO_RECOMMENDS[$p]:-}" ]; then lean+=("$p"); else plain+=("$p"); fi
done
apt-get update -qq
[ ${#plain[@]} -eq 0 ] || apt-get install -y -qq "${plain[@]}" >/dev/null
[ ${#lean[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
log "installed: ${missing[*]}"
