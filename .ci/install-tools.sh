#!/usr/bin/env bash
# Installs the programs the tests judge seqsim's outputs with, on Debian 12:
#   tshark (Wireshark), plantuml, mscgen, chromium and fonts-dejavu-core
#   from Debian; node and npm from Debian when they are not installed; and
#   the Mermaid CLI (@mermaid-js/mermaid-cli 11.17.0, puppeteer 24.43.1)
#   from npm, pinned by .ci/mermaid/package-lock.json, into
#   $MERMAID_CLI_DIR (default /opt/seqsim-checks/mermaid). Puppeteer's own
#   browser download is skipped: the tests point it at /usr/bin/chromium.
# Safe to run again: what is there already is left alone. Runs as root,
# or through sudo.
set -euo pipefail
cd "$(dirname "$0")"

MERMAID_CLI_DIR=${MERMAID_CLI_DIR:-/opt/seqsim-checks/mermaid}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

packages=(tshark plantuml mscgen chromium fonts-dejavu-core)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for package in "${packages[@]}"; do installed "$package" || missing+=("$package"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-tools: apt-get install ${missing[*]}"
  # tshark's package asks whether non-root users may capture; answer no.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ -x "$MERMAID_CLI_DIR/node_modules/.bin/mmdc" ] \
   && cmp -s mermaid/package-lock.json "$MERMAID_CLI_DIR/package-lock.json"; then
  echo "install-tools: the Mermaid CLI is already in $MERMAID_CLI_DIR"
else
  echo "install-tools: npm ci in $MERMAID_CLI_DIR"
  $SUDO mkdir -p "$MERMAID_CLI_DIR"
  $SUDO cp mermaid/package.json mermaid/package-lock.json "$MERMAID_CLI_DIR/"
  (cd "$MERMAID_CLI_DIR" && $SUDO env PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

echo "install-tools: $(tshark --version 2>/dev/null | head -1)"
echo "install-tools: $(plantuml -version 2>/dev/null | head -1)"
echo "install-tools: mscgen $(dpkg-query -W -f='${Version}' mscgen)"
echo "install-tools: node $(node --version), mmdc $("$MERMAID_CLI_DIR/node_modules/.bin/mmdc" --version)," \
     "$(/usr/bin/chromium --version 2>/dev/null)"
