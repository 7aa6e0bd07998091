#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the Go module proxy into a cache folder
# keyed by version, so a machine compiles them once. Prints the folder.
#
#   hack/k8s/build.sh            build what is missing, print the bin folder
#   hack/k8s/build.sh helm       the same for helm (module in hack/helm/)
#   K8S_CACHE=/path hack/k8s/build.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The versions come from the pinned go.mod files: one source of truth.
modver() { awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) {print $NF; exit}' "$here/$1/go.mod"; }
cache_root=${K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tcclog}
target=${1:-k8s}

log() { echo "[build.sh] $*" >&2; }

build() { # build MODULE_DIR PACKAGE OUTPUT [LDFLAGS]
  local dir=$1 pkg=$2 out=$3 ldflags=${4:-}
  if [[ -x "$bin/$out" ]]; then return; fi
  log "building $out ($pkg)"
  local start=$SECONDS
  (cd "$here/$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$out.tmp" "$pkg")
  mv "$bin/$out.tmp" "$bin/$out"   # atomic: an interrupted build never leaves a half binary
  log "built $out in $((SECONDS - start)) s"
}

if [[ $target == helm ]]; then
  helm_version=$(modver ../helm helm.sh/helm/v4)
  bin="$cache_root/helm-$helm_version/bin"
  mkdir -p "$bin"
  hv="helm.sh/helm/v4/internal/version"
  build ../helm helm.sh/helm/v4/cmd/helm helm "-X $hv.version=$helm_version -X $hv.gitTreeState=clean"
  echo "$bin"
  exit 0
elif [[ $target != k8s ]]; then
  log "unknown target $target: use k8s (default) or helm"; exit 2
fi

k8s_version=$(modver kube k8s.io/kubernetes)
etcd_version=$(modver etcd go.etcd.io/etcd/server/v3)
kwok_version=$(modver kwok sigs.k8s.io/kwok)
bin="$cache_root/k8s-$k8s_version-etcd-$etcd_version-kwok-$kwok_version/bin"
mkdir -p "$bin"

kv="k8s.io/component-base/version"
kube_ldflags="-X $kv.gitVersion=$k8s_version -X $kv.gitMajor=1 -X $kv.gitMinor=$(cut -d. -f2 <<<"$k8s_version") -X $kv.gitTreeState=clean"
build etcd go.etcd.io/etcd/server/v3 etcd "-X go.etcd.io/etcd/api/v3/version.Version=${etcd_version#v}"
build kube k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kube-scheduler kube-scheduler "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kubectl kubectl "$kube_ldflags"
build kwok sigs.k8s.io/kwok/cmd/kwok kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v}"

echo "$bin"
