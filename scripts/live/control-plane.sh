#!/usr/bin/env bash
# control-plane.sh: a live Crossplane control plane and two target clusters,
# as plain local processes (no container engine, no kubelet), for the live
# suite and for trying the function by hand.
#
#   bash scripts/live/control-plane.sh up      build what is missing, start, install
#   bash scripts/live/control-plane.sh down    stop every process this script started
#   bash scripts/live/control-plane.sh status  processes and their memory
#   bash scripts/live/control-plane.sh env     the variables the live suite reads
#   bash scripts/live/control-plane.sh clean   down, then remove the state
#
# What runs (each built by scripts/live/build.sh and cached by version):
#   cp      etcd + kube-apiserver + kube-controller-manager: the control plane;
#           also a target cluster ("local"), as a management cluster often is
#   edge    a second etcd + kube-apiserver + kube-controller-manager: a remote
#           target cluster
#   Crossplane core (`crossplane core start`, PACKAGE_RUNTIME=External) running
#           as its own ServiceAccount with the ClusterRole Crossplane's Helm
#           chart gives it, plus what deploy/rbac adds; the RBAC manager
#           (`crossplane rbac start`) while the XRDs are installed
#   an OCI registry holding the Function packages built by `crossplane xpkg
#           build` (function-model-cache from package/, and the platform-step
#           stand-in function-serving-platform-step that the serving
#           Composition runs first), which Crossplane pulls
#   provider-kubernetes, with a ClusterProviderConfig per target cluster
# The functions' processes are started by the live suite (it restarts
# them); their mutual-TLS certificates are signed by the CA Crossplane creates.
# State lives in $FMC_LIVE_STATE (default: $CACHE/live/state).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

STATE="${FMC_LIVE_STATE:-$LIVE_CACHE/state}"
LOGS="$STATE/logs" PIDS="$STATE/pids" PKI="$STATE/pki"
KBIN="$LIVE_CACHE/kube-$K8S_VERSION" XBIN="$CACHE/crossplane-$XP_VERSION" PBIN="$LIVE_CACHE/provider-kubernetes-$PK_VERSION"
K="$KBIN/kubectl"
MANIFESTS="$ROOT/test/live/manifests"

# Ports: one block, away from the defaults of everything else the tests start.
CP_API_PORT=26443 CP_ETCD_PORT=26379 CP_KCM_PORT=26257
EDGE_API_PORT=27443 EDGE_ETCD_PORT=27379 EDGE_KCM_PORT=27257
XP_METRICS_PORT=26080 XP_HEALTH_PORT=26081 XP_WEBHOOK_PORT=26082
REG_PORT=26500 FN_PORT=26900 PLATFORM_STEP_PORT=26901 PK_HEALTH_PORT=26091
PK_WEBHOOK_PORT=9443 # provider-kubernetes v1.2.1 hardcodes :9443 (webhook) and :8080 (metrics)
FUNCTION=function-model-cache
PLATFORM_STEP=function-serving-platform-step

mkdir -p "$LOGS" "$PIDS" "$PKI"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

die() { log "ERROR: $*"; exit 1; }
kcp() { "$K" --kubeconfig "$STATE/cp.kubeconfig" "$@"; }
kedge() { "$K" --kubeconfig "$STATE/edge.kubeconfig" "$@"; }

running() { # name
  local f="$PIDS/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

launch() { # name env... -- program args...
  local name="$1"; shift
  if running "$name"; then return 0; fi
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  nohup env "${envs[@]}" "$@" >>"$LOGS/$name.log" 2>&1 &
  echo $! >"$PIDS/$name.pid"
  log "started $name (pid $!, log $LOGS/$name.log)"
}

wait_for() { # what seconds command...
  local what="$1" secs="$2" t0=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - t0 >= secs )); then die "timed out after ${secs}s waiting for $what"; fi
    sleep 0.5
  done
  log "$what ready after $(( SECONDS - t0 ))s"
}

# ------------------------------------------------------------------ PKI ----

sign() { # name subject san-or-empty usage(serverAuth|clientAuth) [ca-prefix]
  local n="$1" subj="$2" san="$3" usage="$4" ca="${5:-$PKI/ca}"
  openssl req -newkey rsa:2048 -nodes -keyout "$PKI/$n.key" -out "$PKI/$n.csr" -subj "$subj" 2>/dev/null
  { [ -n "$san" ] && echo "subjectAltName=$san"; echo "extendedKeyUsage=$usage"; } >"$PKI/$n.ext"
  openssl x509 -req -in "$PKI/$n.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -out "$PKI/$n.crt" \
    -days 3650 -extfile "$PKI/$n.ext" 2>/dev/null
}

kubeconfig() { # file server-port user-name (cert|token) cert-prefix-or-token
  local file="$1" port="$2" user="$3" kind="$4" cred="$5" auth
  if [ "$kind" = cert ]; then
    auth="    client-certificate-data: $(base64 -w0 "$cred.crt")
    client-key-data: $(base64 -w0 "$cred.key")"
  else
    auth="    token: $cred"
  fi
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
$auth
contexts:
- name: c
  context: {cluster: c, user: $user}
current-context: c
EOF
  mv "$file.tmp" "$file"
}

make_pki() {
  [ -f "$PKI/done" ] && return 0
  log "generating the PKI in $PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 -subj "/CN=fmc-live-ca" 2>/dev/null
  sign apiserver "/CN=kube-apiserver" "IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc,IP:10.0.0.1" serverAuth
  sign admin "/O=system:masters/CN=fmc-live-admin" "" clientAuth
  sign pk-webhook "/CN=provider-kubernetes-webhook" "IP:127.0.0.1,DNS:localhost" serverAuth
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  kubeconfig "$STATE/cp.kubeconfig" $CP_API_PORT admin cert "$PKI/admin"
  kubeconfig "$STATE/edge.kubeconfig" $EDGE_API_PORT admin cert "$PKI/admin"
  touch "$PKI/done"
}

# ------------------------------------------------------------- clusters ----

start_cluster() { # name api-port etcd-port kcm-port
  local n="$1" api="$2" etcd="$3" kcm="$4"
  launch "$n-etcd" -- "$KBIN/etcd" --name "$n" --data-dir "$STATE/$n-etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd" --advertise-client-urls "http://127.0.0.1:$etcd" \
    --listen-peer-urls "http://127.0.0.1:$((etcd + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((etcd + 1))" \
    --initial-cluster "$n=http://127.0.0.1:$((etcd + 1))" --unsafe-no-fsync --log-level warn
  wait_for "$n etcd" 60 curl -sf "http://127.0.0.1:$etcd/health"
  # --endpoint-reconciler-type=none: the kubernetes Endpoints may not hold a
  # loopback address. ServiceAccount admission is off: no token volumes (no
  # kubelet mounts them; the live suite hands the hydrator a token itself).
  launch "$n-apiserver" -- "$KBIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
    --authorization-mode=RBAC --allow-privileged=true --disable-admission-plugins=ServiceAccount \
    --enable-priority-and-fairness=false --profiling=false --v=1
  wait_for "$n kube-apiserver" 180 "$K" --kubeconfig "$STATE/$n.kubeconfig" get --raw /readyz
  # The controllers a target cluster needs without a kubelet: Jobs make Pods,
  # the binder binds claims to the static volumes the suite provides, the
  # garbage collector and namespace controller clean up, and the aggregation
  # controller fills ClusterRoles that aggregate others (Crossplane's does).
  launch "$n-kcm" -- "$KBIN/kube-controller-manager" --kubeconfig="$STATE/$n.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$kcm" --leader-elect=false \
    --controllers=garbagecollector,namespace,job,persistentvolume-binder,pvc-protection,pv-protection,ttl-after-finished,clusterrole-aggregation --v=1
  wait_for "$n kube-controller-manager" 60 curl -skf "https://127.0.0.1:$kcm/healthz"
}

# ----------------------------------------------------------- Crossplane ----

# Crossplane runs as the ServiceAccount its Helm chart creates, with the
# chart's ClusterRole (aggregating every role labelled
# rbac.crossplane.io/aggregate-to-crossplane), never as a cluster admin: a
# right the product forgets to grant fails the live suite.
crossplane_identity() {
  kcp apply -f "$MANIFESTS/crossplane-rbac.yaml" >/dev/null
  local token
  token="$(kcp -n crossplane-system create token crossplane --duration=48h)"
  kubeconfig "$STATE/crossplane.kubeconfig" $CP_API_PORT crossplane token "$token"
}

start_crossplane() {
  local crds; crds="$(go_module_field github.com/crossplane/crossplane/v2 "$XP_VERSION" Dir)/cluster/crds"
  kcp get ns crossplane-system >/dev/null 2>&1 || kcp create ns crossplane-system >/dev/null
  crossplane_identity
  # `core init` is the chart's init container (CRDs, the CA and client
  # certificate Secrets); it can race new CRDs becoming established: retry.
  local i
  for i in 1 2 3 4 5 6; do
    if env KUBECONFIG="$STATE/crossplane.kubeconfig" POD_NAMESPACE=crossplane-system CRDS_PATH="$crds" ENABLE_WEBHOOKS=false \
        TLS_CA_SECRET_NAME=crossplane-root-ca TLS_CLIENT_SECRET_NAME=crossplane-tls-client \
        "$XBIN/crossplane" core init >>"$LOGS/crossplane-init.log" 2>&1; then break; fi
    [ $i = 6 ] && die "crossplane core init failed, see $LOGS/crossplane-init.log"
    sleep 2
  done
  mkdir -p "$STATE/xp-client" "$STATE/root-ca" "$STATE/cache/xpkg"
  local k
  for k in ca.crt tls.crt tls.key; do
    kcp -n crossplane-system get secret crossplane-tls-client -o jsonpath="{.data.${k//./\\.}}" | base64 -d >"$STATE/xp-client/$k"
  done
  for k in tls.crt tls.key; do
    kcp -n crossplane-system get secret crossplane-root-ca -o jsonpath="{.data.${k//./\\.}}" | base64 -d >"$STATE/root-ca/$k"
  done
  # PACKAGE_RUNTIME=External: packages are fetched, parsed and installed, but
  # no Deployment is made for them; activate_function plays that runtime.
  launch crossplane KUBECONFIG="$STATE/crossplane.kubeconfig" POD_NAMESPACE=crossplane-system ENABLE_WEBHOOKS=false \
    PACKAGE_RUNTIME=External XPKG_CACHE_DIR="$STATE/cache/xpkg" TLS_CLIENT_CERTS_DIR="$STATE/xp-client" \
    METRICS_PORT=$XP_METRICS_PORT HEALTH_PROBE_PORT=$XP_HEALTH_PORT WEBHOOK_PORT=$XP_WEBHOOK_PORT \
    -- "$XBIN/crossplane" core start --debug
  wait_for crossplane 90 curl -sf "http://127.0.0.1:$XP_HEALTH_PORT/readyz"
}

# The RBAC manager is the privileged half of Crossplane: it writes, for each
# XRD, the ClusterRoles aggregated into Crossplane's. It runs (with the admin
# identity) while the XRDs are installed and is stopped once Crossplane holds
# the rights: it and provider-kubernetes v1.2.1 both bind :8080 for metrics
# (controller-runtime's default; neither takes a flag for it).
with_rbac_manager() { # command...
  launch rbac-manager KUBECONFIG="$STATE/cp.kubeconfig" POD_NAMESPACE=crossplane-system -- "$XBIN/crossplane" rbac start
  "$@"
  local r
  for r in modelcaches.modelcache.dev modelcachereplicas.modelcache.dev servedmodels.platform.example.org; do
    wait_for "Crossplane's right to manage $r (from the RBAC manager)" 120 bash -c \
      "'$K' --kubeconfig '$STATE/cp.kubeconfig' auth can-i create $r --as=system:serviceaccount:crossplane-system:crossplane | grep -q yes"
  done
  stop_process rbac-manager
}

# ------------------------------------------------------ the Function ------

start_registry() {
  local reg; reg="$(bash "$ROOT/scripts/ensure-registry.sh")"
  mkdir -p "$STATE/registry"
  cat >"$STATE/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $STATE/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$REG_PORT}
EOF
  launch registry -- "$reg" serve "$STATE/registry.yml"
  wait_for registry 30 curl -sf "http://127.0.0.1:$REG_PORT/v2/"
}

# A Function package exactly as a user builds one: `crossplane xpkg build`
# from its package root, pushed with `crossplane xpkg push` to the local
# registry (plain HTTP on loopback), installed by reference, pulled by
# Crossplane; activate_function then points it at `port`, where the live
# suite serves it from this checkout with the certificate in `tls-dir`.
install_function() { # name package-root port tls-dir
  local name="$1" root="$2" port="$3" d="$4"
  local ref="127.0.0.1:$REG_PORT/function-model-cache/$name:v0.0.0-live"
  rm -f "$STATE/$name.xpkg"
  # A Function package carries no examples (examples/ holds renders of the
  # Configuration's XRs); an empty examples root says so.
  mkdir -p "$STATE/no-examples"
  "$XBIN/crank" xpkg build --package-root="$root" --examples-root="$STATE/no-examples" -o "$STATE/$name.xpkg" >>"$LOGS/xpkg.log" 2>&1 ||
    die "crossplane xpkg build of $name failed, see $LOGS/xpkg.log"
  "$XBIN/crank" xpkg push -f "$STATE/$name.xpkg" "$ref" >>"$LOGS/xpkg.log" 2>&1 ||
    die "crossplane xpkg push of $name failed, see $LOGS/xpkg.log"
  cat <<EOF | kcp apply -f - >/dev/null
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: $name
spec:
  package: $ref
EOF
  # The server certificate the Deployment runtime would put in
  # <function>-tls-server: signed by Crossplane's CA, for localhost.
  if [ ! -f "$d/tls.crt" ]; then
    mkdir -p "$d"
    sign "$name-server" "/O=Crossplane/CN=$name" "DNS:localhost,IP:127.0.0.1" serverAuth "$STATE/root-ca/tls"
    cp "$PKI/$name-server.crt" "$d/tls.crt"; cp "$PKI/$name-server.key" "$d/tls.key"; cp "$STATE/root-ca/tls.crt" "$d/ca.crt"
  fi
  kcp -n crossplane-system create secret generic "$name-tls-server" --from-file="$d/tls.crt" --from-file="$d/tls.key" \
    --from-file="$d/ca.crt" --dry-run=client -o yaml | kcp apply -f - >/dev/null
  activate_function "$name" "$port"
}

# The function itself, and the platform's own step the live serving
# Composition runs before it (the stand-in, test/support/platform-step/).
install_functions() {
  install_function "$FUNCTION" "$ROOT/package" $FN_PORT "$STATE/fn-tls"
  install_function "$PLATFORM_STEP" "$ROOT/test/support/platform-step/package" $PLATFORM_STEP_PORT "$STATE/platform-step-tls"
}

# Play the External package runtime: point the Function's active revision at
# the local process and mark its runtime healthy.
activate_function() { # name port
  local name="$1" port="$2"
  wait_for "FunctionRevision of $name" 120 bash -c \
    "'$K' --kubeconfig '$STATE/cp.kubeconfig' get functionrevision \$('$K' --kubeconfig '$STATE/cp.kubeconfig' get function $name -o jsonpath='{.status.currentRevision}')"
  local rev; rev="$(kcp get function "$name" -o jsonpath='{.status.currentRevision}')"
  kcp patch functionrevision "$rev" --subresource=status --type=merge \
    -p "{\"status\":{\"endpoint\":\"dns:///localhost:$port\",\"tlsServerSecretName\":\"$name-tls-server\"}}" >/dev/null
  if ! kcp get functionrevision "$rev" -o jsonpath='{.status.conditions[*].type}' | grep -q RuntimeHealthy; then
    kcp patch functionrevision "$rev" --subresource=status --type=json -p \
      "[{\"op\":\"add\",\"path\":\"/status/conditions/-\",\"value\":{\"type\":\"RuntimeHealthy\",\"status\":\"True\",\"reason\":\"HealthyPackageRevision\",\"lastTransitionTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}]" >/dev/null
  fi
  wait_for "Function $name healthy" 120 bash -c \
    "'$K' --kubeconfig '$STATE/cp.kubeconfig' get function $name -o jsonpath='{.status.conditions[?(@.type==\"Healthy\")].status}' | grep -q True"
}

# --------------------------------------------------- provider-kubernetes ----

start_provider_kubernetes() {
  local d; d="$(go_module_field github.com/crossplane-contrib/provider-kubernetes "$PK_VERSION" Dir)"
  mkdir -p "$STATE/pk-crds" "$STATE/pk-tls"
  cp "$PKI/pk-webhook.crt" "$STATE/pk-tls/tls.crt"; cp "$PKI/pk-webhook.key" "$STATE/pk-tls/tls.key"
  # The cluster-scoped Object CRD names its conversion webhook by path only
  # (the package manager fills in a Service); point it at the local process.
  local f
  for f in "$d"/package/crds/*.yaml; do
    CAB="$(base64 -w0 "$PKI/ca.crt")" PORT=$PK_WEBHOOK_PORT node -e '
      const fs = require("node:fs"); const [src, dst] = process.argv.slice(1);
      fs.writeFileSync(dst, fs.readFileSync(src, "utf8").replace(
        "      clientConfig:\n        service:\n          path: /convert\n",
        `      clientConfig:\n        url: https://127.0.0.1:${process.env.PORT}/convert\n        caBundle: ${process.env.CAB}\n`));' \
      "$f" "$STATE/pk-crds/$(basename "$f")"
  done
  kcp apply --server-side -f "$STATE/pk-crds/" >/dev/null
  kcp wait --for=condition=Established crd --all --timeout=60s >/dev/null
  launch provider-kubernetes KUBECONFIG="$STATE/cp.kubeconfig" WEBHOOK_TLS_CERT_DIR="$STATE/pk-tls" \
    -- "$PBIN/provider-kubernetes" --debug --health-probe-bind-addr="127.0.0.1:$PK_HEALTH_PORT" --poll=5s
  wait_for provider-kubernetes 60 curl -sf "http://127.0.0.1:$PK_HEALTH_PORT/readyz"
  # One ClusterProviderConfig per target cluster, named as the
  # InferenceClusters' status names them.
  local n
  for n in cp edge; do
    kcp -n crossplane-system create secret generic "kubeconfig-$n" --from-file=kubeconfig="$STATE/$n.kubeconfig" \
      --dry-run=client -o yaml | kcp apply -f - >/dev/null
    cat <<EOF | kcp apply -f - >/dev/null
apiVersion: kubernetes.m.crossplane.io/v1alpha1
kind: ClusterProviderConfig
metadata:
  name: $n
spec:
  credentials:
    source: Secret
    secretRef: {namespace: crossplane-system, name: kubeconfig-$n, key: kubeconfig}
EOF
  done
}

# ------------------------------------------------------------- the APIs ----

install_apis() {
  # As a cluster admin would: the rights deploy/rbac documents, the cluster
  # type (the seed platform's InferenceCluster CRD), then the Configuration's
  # XRDs and Compositions exactly as apis/ holds them.
  kcp apply -f "$ROOT/deploy/rbac/" >/dev/null
  kcp apply -f "$MANIFESTS/inferencecluster-crd.yaml" >/dev/null
  kcp apply -f "$MANIFESTS/rbac-provider-kubernetes.yaml" >/dev/null
  kcp wait --for=condition=Established crd/inferenceclusters.modelplane.ai --timeout=60s >/dev/null
  kcp apply -f "$ROOT/apis/modelcaches/definition.yaml" -f "$ROOT/apis/modelcachereplicas/definition.yaml" >/dev/null
  local x
  for x in modelcaches.modelcache.dev modelcachereplicas.modelcache.dev; do
    wait_for "XRD $x established" 120 bash -c \
      "'$K' --kubeconfig '$STATE/cp.kubeconfig' get xrd $x -o jsonpath='{.status.conditions[?(@.type==\"Established\")].status}' | grep -q True"
  done
  kcp apply -f "$ROOT/apis/modelcaches/composition.yaml" -f "$ROOT/apis/modelcachereplicas/composition.yaml" >/dev/null
  # A platform's serving API, the live suite's consumer of a cache: its own
  # step (function-serving-platform-step), then function-model-cache's serving step.
  kcp apply -f "$MANIFESTS/serving-definition.yaml" >/dev/null
  wait_for "XRD servedmodels.platform.example.org established" 120 bash -c \
    "'$K' --kubeconfig '$STATE/cp.kubeconfig' get xrd servedmodels.platform.example.org -o jsonpath='{.status.conditions[?(@.type==\"Established\")].status}' | grep -q True"
  kcp apply -f "$MANIFESTS/serving-composition.yaml" >/dev/null
}

# -------------------------------------------------------------- commands ----

ORDER="function platform-step provider-kubernetes registry crossplane rbac-manager edge-kcm edge-apiserver edge-etcd cp-kcm cp-apiserver cp-etcd"

cmd_up() {
  command -v openssl >/dev/null || die "openssl is needed to make the control plane's certificates"
  local t0=$SECONDS
  bash "$ROOT/scripts/live/build.sh"
  make_pki
  start_cluster cp $CP_API_PORT $CP_ETCD_PORT $CP_KCM_PORT
  start_cluster edge $EDGE_API_PORT $EDGE_ETCD_PORT $EDGE_KCM_PORT
  start_crossplane
  start_registry
  with_rbac_manager install_apis
  start_provider_kubernetes
  install_functions
  log "live control plane up in $(( SECONDS - t0 ))s; the functions are expected on 127.0.0.1:$FN_PORT ($FUNCTION, mutual TLS, $STATE/fn-tls) and 127.0.0.1:$PLATFORM_STEP_PORT ($PLATFORM_STEP, $STATE/platform-step-tls)"
}

cmd_env() {
  cat <<EOF
FMC_LIVE_STATE=$STATE
FMC_LIVE_KUBECTL=$K
FMC_LIVE_CP_KUBECONFIG=$STATE/cp.kubeconfig
FMC_LIVE_EDGE_KUBECONFIG=$STATE/edge.kubeconfig
FMC_LIVE_CP_API_PORT=$CP_API_PORT
FMC_LIVE_EDGE_API_PORT=$EDGE_API_PORT
FMC_LIVE_CA=$PKI/ca.crt
FMC_LIVE_FN_PORT=$FN_PORT
FMC_LIVE_FN_TLS=$STATE/fn-tls
FMC_LIVE_PLATFORM_STEP_PORT=$PLATFORM_STEP_PORT
FMC_LIVE_PLATFORM_STEP_TLS=$STATE/platform-step-tls
EOF
}

cmd_status() {
  local n p
  for n in $ORDER; do
    if running "$n"; then p="$(cat "$PIDS/$n.pid")"
      printf '%-22s pid %-7s rss %5d MiB\n' "$n" "$p" $(( $(ps -o rss= -p "$p") / 1024 ))
    else printf '%-22s not running\n' "$n"; fi
  done
}

stop_process() { # name
  local n="$1" p i
  running "$n" || { rm -f "$PIDS/$n.pid"; return 0; }
  p="$(cat "$PIDS/$n.pid")"; kill "$p" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$p" 2>/dev/null || true
  rm -f "$PIDS/$n.pid"
}

cmd_down() {
  local n
  for n in $ORDER; do stop_process "$n"; done
  log "live control plane stopped"
}

case "${1:-up}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  activate) activate_function "$FUNCTION" $FN_PORT; activate_function "$PLATFORM_STEP" $PLATFORM_STEP_PORT ;;
  clean) cmd_down; rm -rf "$STATE"; log "removed $STATE" ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
