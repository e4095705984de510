#!/usr/bin/env bash
# Installs the system packages the kit needs on Debian or Ubuntu:
#   gnuplot-nox   draws the figures (PNG, GIF, terminal); use gnuplot-qt for a window
#   zlib1g-dev    reads the gzip-compressed MNIST files
# On macOS: `brew install gnuplot` (zlib and Accelerate come with the system).
set -euo pipefail

packages=(gnuplot-nox zlib1g-dev pkg-config)
if [[ "$(uname)" == "Darwin" ]]; then
    command -v gnuplot >/dev/null || brew install gnuplot
    exit 0
fi
missing=()
for package in "${packages[@]}"; do
    # Any gnuplot will do: gnuplot-qt or gnuplot-x11 (for windows) must not be swapped for gnuplot-nox.
    if [[ "$package" == gnuplot-nox ]] && command -v gnuplot >/dev/null; then continue; fi
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if (( ${#missing[@]} == 0 )); then
    echo "System packages already installed: gnuplot, zlib1g-dev, pkg-config"
    exit 0
fi
sudo=""
if [[ $EUID -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
