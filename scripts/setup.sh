#!/usr/bin/env bash
# Installs everything confprov's demo and tests need on a fresh Debian 12 machine:
# Debian packages (as root), a virtualenv with confprov and its tools, and the lab image cache.
# Safe to rerun: each step checks first and does nothing when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
DEB_PACKAGES=(debootstrap systemd-container nftables iproute2 dpkg-dev gnupg openssh-client openssl sqlite3 chromium python3-venv msitools wixl)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    else
        echo "setup: installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

if [[ ! -x $VENV/bin/python ]]; then
    python3 -m venv "$VENV"
fi
# Reinstall only when the project's metadata changed since the last install.
stamp=$VENV/.confprov-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q -e '.[dev]'
    touch "$stamp"
fi
# The ansible.windows collection for the Windows roles, taken out of PyPI's `ansible` bundle.
"$VENV/bin/python" scripts/install_collections.py

# promtool (the tests of the watch alert rules) from Debian's prometheus package, unpacked into
# the virtualenv: installing the package itself would also enable a Prometheus server on :9090.
if [[ ! -x $VENV/bin/promtool ]]; then
    tmp=$(mktemp -d)
    if (cd "$tmp" && { apt-get download -qq prometheus 2>/dev/null || { [[ $(id -u) -eq 0 ]] && apt-get update -qq && apt-get download -qq prometheus; }; }) >/dev/null; then
        dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/unpacked"
        install -m 0755 "$tmp/unpacked/usr/bin/promtool" "$VENV/bin/promtool"
    else
        echo "setup: could not download Debian's prometheus package: promtool tests will be skipped" >&2
    fi
    rm -rf "$tmp"
fi

# The lab image (debootstrap, cached; rebuilt only when its recipe changes). Needs root.
if [[ $(id -u) -eq 0 ]]; then
    "$VENV/bin/confprov" lab image
else
    echo "setup: not root: skipping the lab image (lab commands and lab tests need root)"
fi
