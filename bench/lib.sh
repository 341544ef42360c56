# Shell pieces shared by scripts/bench and bench/retag-large-copy: dependencies, a fresh build, throwaway
# docker-registry instances on free loopback ports (plain HTTP or TLS with a CA made in the run), images pushed
# through the registry API with curl, access-log request counts and /usr/bin/time measurements.
# Source it from the repository root after `set -euo pipefail`; call bench_setup first.
# shellcheck shell=bash

# Installs the project's packages (scripts/install-deps) and the measuring tools missing among ARGS
# (Debian package names: time, hyperfine).
bench_install() {
    scripts/install-deps
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "installing: ${missing[*]}" >&2
        local sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Builds into build/ when any of the given executables (paths under build/) is missing or older than a source.
bench_build_if_stale() {
    local exe stale=0
    for exe in "$@"; do
        [ -x "build/$exe" ] || { stale=1; break; }
        [ -z "$(find src tools bench CMakeLists.txt -newer "build/$exe" -type f \( -name '*.cpp' -o -name '*.hpp' \
            -o -name CMakeLists.txt \) -print -quit)" ] || { stale=1; break; }
    done
    if [ "$stale" = 1 ]; then
        echo "building (build/ is missing or stale)" >&2
        scripts/build build >/dev/null
    fi
}

# Makes $work (a temp folder named after PREFIX) and the trap that stops every registry and deletes the folder
# on exit, failure or Ctrl-C. KEEP=1 keeps the folder.
bench_setup() {
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    registry_pids=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# shellcheck disable=SC2317  # called by the EXIT trap
bench_cleanup() {
    local rc=$? pid
    for pid in "${registry_pids[@]}"; do
        # wait returns the registry's 143; under set -e that must not end cleanup before the rm
        if kill "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
    done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
    exit "$rc"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# make_tls DIR: a CA (DIR/ca.crt, also DIR/certs/ca.crt for skopeo's --cert-dir) and a server certificate for
# 127.0.0.1 and localhost signed by it (DIR/server.crt, DIR/server.key). Go's verifier wants CA:TRUE/keyCertSign.
make_tls() {
    local dir=$1
    mkdir -p "$dir/certs"
    (
        cd "$dir" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=digestflow bench CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            -keyout ca.key -out ca.crt 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null
        printf '%s\n' subjectAltName=IP:127.0.0.1,DNS:localhost basicConstraints=CA:FALSE \
            keyUsage=critical,digitalSignature,keyEncipherment extendedKeyUsage=serverAuth >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 2 -extfile server.ext \
            -out server.crt 2>/dev/null
        cp ca.crt certs/ca.crt
    )
}

# start_registry NAME [TLS_DIR]: a docker-registry on a free 127.0.0.1 port, with its access log (one
# `"METHOD /path HTTP/1.1" status` line per request) in $work/registry-NAME/registry.log. With TLS_DIR (from
# make_tls) it speaks only TLS. Sets REGISTRY_<NAME>=127.0.0.1:PORT and URL_<NAME>=http(s)://127.0.0.1:PORT.
# REGISTRY_STORAGE=inmemory keeps everything in the registry's memory instead of $work/registry-NAME/storage.
start_registry() {
    local name=$1 tls=${2:-} port addr dir scheme=http tls_yaml="" storage
    port=$(free_port)
    addr=127.0.0.1:$port
    dir=$work/registry-$name
    mkdir -p "$dir/storage"
    if [ -n "$tls" ]; then
        scheme=https
        tls_yaml=", tls: {certificate: $tls/server.crt, key: $tls/server.key}"
    fi
    storage="filesystem: {rootdirectory: $dir/storage}"
    [ "${REGISTRY_STORAGE:-}" != inmemory ] || storage="inmemory: {}"
    cat >"$dir/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: false}}
storage: {$storage, delete: {enabled: true}}
http: {addr: $addr$tls_yaml}
YAML
    docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    registry_pids+=("$!")
    local _
    for _ in $(seq 100); do
        if curl -sf ${tls:+--cacert "$tls/ca.crt"} -o /dev/null "$scheme://$addr/v2/" 2>/dev/null; then
            printf -v "REGISTRY_$name" '%s' "$addr"
            printf -v "URL_$name" '%s' "$scheme://$addr"
            return 0
        fi
        sleep 0.1
    done
    echo "registry $name did not come up on $addr:" >&2
    cat "$dir/registry.log" >&2
    return 1
}

# bytes stored in a registry's blob store (what was uploaded to it)
stored_bytes() { du -sb "$work/registry-$1/storage" 2>/dev/null | cut -f1 || echo 0; }

# empties a registry's storage (the filesystem driver keeps no cache): the next copy into it uploads everything
wipe_registry() { rm -rf "$work/registry-$1/storage/docker"; }

# access_lines NAME: how many requests registry NAME has logged so far (HTTP/1.1, and HTTP/2.0 for curl over TLS). docker-registry writes a line after the
# answer went out, so it waits until the count holds still for 0.1 s before answering.
access_lines() {
    local log=$work/registry-$1/registry.log now last=-1
    while :; do
        now=$(grep -cE '"[A-Z]+ /[^ ]* HTTP/[0-9.]+" [0-9]{3} ' "$log" || true)
        [ "$now" = "$last" ] && { echo "$now"; return 0; }
        last=$now
        sleep 0.1
    done
}

# --- pushing images through the registry API ---------------------------------------------------------------
# The curl for registry calls: fails on HTTP errors, trusts $BENCH_CA when set (for the TLS registries).
reg_curl() { curl -sSf ${BENCH_CA:+--cacert "$BENCH_CA"} "$@"; }

sha256_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# push_blob URL REPO FILE: one monolithic upload (POST, then PUT with ?digest=). Prints the digest.
push_blob() {
    local url=$1 repo=$2 file=$3 digest location
    digest=$(sha256_of "$file")
    location=$(reg_curl -X POST -D - -o /dev/null "$url/v2/$repo/blobs/uploads/" |
        awk -F': ' 'tolower($1) == "location" { sub(/\r$/, "", $2); print $2 }')
    case $location in /*) location=$url$location ;; esac
    case $location in *\?*) location=$location\&digest=$digest ;; *) location=$location\?digest=$digest ;; esac
    reg_curl -X PUT -H 'Content-Type: application/octet-stream' --upload-file "$file" -o /dev/null "$location"
    echo "$digest"
}

# push_image URL REPO TAG LAYER_FILE...: blobs, an OCI config naming them, then the OCI manifest under TAG
# (layers typed ...layer.v1.tar: registries and copies take the bytes as they are; the same layers give the
# same digest). Keeps the manifest in
# $work/manifest-<digest hex>.json; prints the manifest digest.
push_image() {
    local url=$1 repo=$2 tag=$3; shift 3
    local layers="" diff_ids="" file digest size sep="" config manifest
    for file in "$@"; do
        digest=$(push_blob "$url" "$repo" "$file")
        size=$(stat -c %s "$file")
        layers+="$sep{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$digest\",\"size\":$size}"
        diff_ids+="$sep\"$digest\""
        sep=,
    done
    config=$(mktemp "$work/config.XXXXXX")
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' "$diff_ids" >"$config"
    digest=$(push_blob "$url" "$repo" "$config")
    size=$(stat -c %s "$config")
    manifest=$(mktemp "$work/manifest.XXXXXX")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
        "$digest" "$size" "$layers" >"$manifest"
    put_manifest "$url" "$repo" "$tag" "$manifest"
    digest=$(sha256_of "$manifest")
    mv "$manifest" "$work/manifest-${digest#sha256:}.json"
    rm -f "$config"
    echo "$digest"
}

# put_manifest URL REPO TAG FILE: (re)points TAG at the OCI manifest in FILE.
put_manifest() {
    reg_curl -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$4" \
        -o /dev/null "$1/v2/$2/manifests/$3"
}

# random_file FILE MIB: MIB MiB from /dev/urandom (incompressible, unique per run)
random_file() { head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"; }

# --- measuring -------------------------------------------------------------------------------------------
# measure LABEL CMD... : runs CMD under /usr/bin/time -v, stdout to $work/LABEL.out, stderr to $work/LABEL.err;
# sets WALL (seconds, 2 decimals) and RSS_KIB; returns CMD's exit code.
# shellcheck disable=SC2034  # WALL and RSS_KIB are for the caller
measure() {
    local label=$1; shift
    local rc=0
    /usr/bin/time -v -o "$work/$label.time" "$@" >"$work/$label.out" 2>"$work/$label.err" || rc=$?
    RSS_KIB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$label.time")
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$work/$label.time")
    return "$rc"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
mib_bytes() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
