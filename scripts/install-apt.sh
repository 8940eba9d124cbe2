#!/bin/sh
# Install the Debian packages the tests need (one per line in the file given), only those missing.
set -eu
list="$1"
missing=""
for package in $(grep -v '^#' "$list" | tr -s ' \n' ' '); do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
echo "Installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
