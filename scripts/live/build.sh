#!/usr/bin/env bash
# build.sh: build, from the Go module proxy, every program the live control
# plane runs, each cached by version under $CACHE/live/<name>-<version>/ so a
# second run on the same machine builds nothing:
#   kube-<v>:      etcd, kube-apiserver, kube-controller-manager, kubectl
#                  (k8s.io/kubernetes as a library, staging modules replaced
#                  by the published k8s.io/* of the same release)
#   crossplane-<v>: crossplane (core) and crank (the CLI), one `go build` in
#                  Crossplane's own module so both share one compile
#   provider-kubernetes-<v>
# Prints nothing on stdout; progress on stderr.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"


timed() { local t0=$SECONDS; "$@"; log "  done in $(( SECONDS - t0 ))s"; }

build_kube() {
  local out="$LIVE_CACHE/kube-$K8S_VERSION" b missing=()
  mkdir -p "$LIVE_CACHE"
  exec 7>"$LIVE_CACHE/kube-$K8S_VERSION.lock"
  flock 7
  for b in etcd kube-apiserver kube-controller-manager kubectl; do [ -x "$out/$b" ] || missing+=("./cmd/$b"); done
  [ ${#missing[@]} -eq 0 ] && { flock -u 7; return 0; }
  local src="$LIVE_CACHE/src/kube-$K8S_VERSION"
  mkdir -p "$src/cmd/etcd" "$src/cmd/kubectl" "$out"
  local c fn
  for c in kube-apiserver kube-controller-manager; do
    fn=NewAPIServerCommand; [ "$c" = kube-controller-manager ] && fn=NewControllerManagerCommand
    mkdir -p "$src/cmd/$c"
    cat >"$src/cmd/$c/main.go" <<GO
package main

import (
	"os"

	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/$c/app"
)

func main() { os.Exit(cli.Run(app.$fn())) }
GO
  done
  cat >"$src/cmd/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  cat >"$src/cmd/kubectl/main.go" <<'GO'
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	if err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {
		util.CheckErr(err)
	}
}
GO
  if [ ! -f "$src/go.sum" ]; then
    # k8s.io/kubernetes is not meant to be a library: its go.mod replaces every
    # staging module with ./staging/...; point each at the published release.
    local kmod
    kmod="$(go_module_field k8s.io/kubernetes "$K8S_VERSION" GoMod)"
    {
      printf 'module fmclive/kube\n\ngo 1.25.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
      grep -E '^\s+k8s.io/\S+ => ./staging' "$kmod" | awk -v v="$K8S_STAGING" '{print "\t"$1" => "$1" "v}'
      printf ')\n'
    } >"$src/go.mod"
    (cd "$src" && go mod tidy >&2)
  fi
  log "building ${missing[*]} (k8s.io/kubernetes $K8S_VERSION; ~15-20 min on a cold 2-core machine)"
  local v=k8s.io/component-base/version c=k8s.io/client-go/pkg/version minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local ld="-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $c.gitVersion=$K8S_VERSION -X $c.gitMajor=1 -X $c.gitMinor=$minor"
  (cd "$src" && timed go build -trimpath -ldflags "$ld" -o "$out/" "${missing[@]}" >&2)
  flock -u 7
}

build_provider_kubernetes() {
  local out="$LIVE_CACHE/provider-kubernetes-$PK_VERSION"
  [ -x "$out/provider-kubernetes" ] && return 0
  local d; d="$(go_module_field github.com/crossplane-contrib/provider-kubernetes "$PK_VERSION" Dir)"
  mkdir -p "$out"
  log "building provider-kubernetes $PK_VERSION"
  (cd "$d" && timed go build -trimpath -ldflags "-s -w" -o "$out/provider-kubernetes" ./cmd/provider >&2)
}

command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build the live control plane"; exit 1; }
t0=$SECONDS
ensure_crossplane_build || exit 1
build_kube
build_provider_kubernetes
log "live control plane programs ready ($(( SECONDS - t0 ))s)"
