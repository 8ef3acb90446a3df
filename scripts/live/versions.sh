# The versions the live control plane runs, and where their builds are cached.
# Each is the newest the Go module proxy reachable here serves whole:
#   provider-kubernetes v1.3.x needs github.com/nebius/gosdk (refused by the
#   proxy) and v1.4.x needs Go >= 1.27.1; Crossplane is shared with the CLI
#   (XP_VERSION in lib.sh).
K8S_VERSION="${FMC_K8S_VERSION:-v1.35.4}"
K8S_STAGING="v0.${K8S_VERSION#v1.}"
PK_VERSION="${FMC_PK_VERSION:-v1.2.1}"
LIVE_CACHE="$CACHE/live"
