#!/usr/bin/env bash
# Installs a Rune Vault (and, with RUNE_RUN_INDEX=true, an index) on Ubuntu 24.04 behind nginx.
# cloud-init runs it once at first boot; run it again by hand to upgrade (it is idempotent):
#   sudo /usr/local/lib/rune-deploy/install-rune.sh            every step
#   sudo /usr/local/lib/rune-deploy/install-rune.sh app services health   only these steps
# Settings come from /etc/rune/deploy.env (written by Terraform; see deploy/terraform/README.md).
set -Eeuo pipefail
umask 022

readonly ALL_STEPS=(packages node firewall user app keys services tls nginx health)
readonly NODE_MAJOR=20
# NodeSource's repository signing key; a downloaded key with another fingerprint is refused.
readonly NODESOURCE_KEY_FPR=6F71F525282841EEDAF851B42F59B5F99B1BE0B4
readonly VAULT_PORT=50080
readonly INDEX_PORT=50090
readonly RELEASES_KEPT=3

SRC_DIR=${RUNE_DEPLOY_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
ENV_FILE=${RUNE_DEPLOY_ENV:-/etc/rune/deploy.env}
# RUNE_ROOT relocates Rune's own files (code, keys, data), never the system's (apt, systemd, nginx).
ROOT=${RUNE_ROOT:-}
RUNE_USER=${RUNE_USER:-rune}
OPT_DIR=$ROOT/opt/rune
ETC_DIR=$ROOT/etc/rune
STATE_DIR=$ROOT/var/lib/rune
LOG_FILE=${RUNE_INSTALL_LOG:-/var/log/rune-install.log}

log() { printf '%s rune-install: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

# retry ATTEMPTS COMMAND...: runs COMMAND until it succeeds, sleeping 5 s, 10 s, ... in between.
retry() {
  local attempts=$1 n=1
  shift
  until "$@"; do
    ((n < attempts)) || return 1
    log "retrying in $((n * 5)) s: $*"
    sleep $((n * 5))
    n=$((n + 1))
  done
}

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold -y "$@"
}

load_config() {
  [[ -r $ENV_FILE ]] || die "cannot read $ENV_FILE"
  # shellcheck source=/dev/null
  . "$ENV_FILE"
  : "${RUNE_PACKAGE_URL:?RUNE_PACKAGE_URL is not set in $ENV_FILE}"
  RUNE_PACKAGE_SHA256=${RUNE_PACKAGE_SHA256:-}
  RUNE_DOMAIN=${RUNE_DOMAIN:-}
  RUNE_RUN_INDEX=${RUNE_RUN_INDEX:-true}
  RUNE_INDEX_PUBLIC_KEY=${RUNE_INDEX_PUBLIC_KEY:-}
  RUNE_INDEX_URL=${RUNE_INDEX_URL:-}
  RUNE_HOST_FIREWALL=${RUNE_HOST_FIREWALL:-ufw}
  if [[ $RUNE_RUN_INDEX != true && -z $RUNE_INDEX_PUBLIC_KEY ]]; then
    die "RUNE_RUN_INDEX is not true, so RUNE_INDEX_PUBLIC_KEY must name the index the Vault trusts"
  fi
}

# A VM whose static IP is attached after boot (AWS, OCI) has no route out for its first seconds.
# Any HTTP answer proves the route (hence no --fail).
wait_for_network() {
  local deadline=$((SECONDS + 900))
  until curl -s --max-time 10 -o /dev/null https://deb.nodesource.com/; do
    ((SECONDS < deadline)) || die "no outbound HTTPS after 15 minutes"
    sleep 5
  done
}

step_packages() {
  wait_for_network
  retry 5 apt_get update
  local packages=(ca-certificates curl git gnupg nginx openssl unattended-upgrades)
  if [[ $RUNE_HOST_FIREWALL == iptables ]]; then packages+=(iptables-persistent); else packages+=(ufw); fi
  retry 3 apt_get install --no-install-recommends "${packages[@]}"
  if [[ -n $RUNE_DOMAIN ]]; then
    # Without lego the Vault still comes up, on the private-CA certificate (rune-tls logs why).
    retry 3 apt_get install --no-install-recommends lego || log "lego is not installable; no Let's Encrypt certificate"
  fi
  install -m 0644 "$SRC_DIR/20auto-upgrades" /etc/apt/apt.conf.d/20auto-upgrades
  install -m 0644 "$SRC_DIR/52rune-unattended-upgrades" /etc/apt/apt.conf.d/52rune-unattended-upgrades
  systemctl enable --now unattended-upgrades.service
}

step_node() {
  if command -v node >/dev/null && [[ $(node -p 'process.versions.node.split(".")[0]') == "$NODE_MAJOR" ]]; then
    log "Node.js $(node --version) already installed"
    return
  fi
  local tmp fpr
  tmp=$(mktemp -d)
  install -d -m 0700 "$tmp/gnupg"
  retry 3 curl -fsSL --proto '=https' -o "$tmp/nodesource.asc" \
    https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key
  fpr=$(GNUPGHOME=$tmp/gnupg gpg --batch --with-colons --show-keys "$tmp/nodesource.asc" |
    awk -F: '$1 == "fpr" { print $10; exit }')
  [[ $fpr == "$NODESOURCE_KEY_FPR" ]] || die "NodeSource key fingerprint is '$fpr', expected $NODESOURCE_KEY_FPR"
  install -d -m 0755 /etc/apt/keyrings
  GNUPGHOME=$tmp/gnupg gpg --batch --yes --dearmor -o /etc/apt/keyrings/nodesource.gpg "$tmp/nodesource.asc"
  chmod 0644 /etc/apt/keyrings/nodesource.gpg
  rm -rf "$tmp"
  printf 'deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_%s.x nodistro main\n' \
    "$NODE_MAJOR" >/etc/apt/sources.list.d/nodesource.list
  printf 'Package: nodejs\nPin: origin deb.nodesource.com\nPin-Priority: 600\n' >/etc/apt/preferences.d/nodesource
  retry 5 apt_get update
  retry 3 apt_get install nodejs
  log "installed Node.js $(node --version)"
}

# Only 443 and SSH; the cloud firewall narrows SSH to admin_cidr. Host SSH stays open to any source
# so that changing admin_cidr later in Terraform (which does not re-run this script) cannot lock
# the admin out.
step_firewall() {
  if [[ $RUNE_HOST_FIREWALL == iptables ]]; then
    # Oracle's Ubuntu images ship iptables rules (ending in REJECT) that must not be replaced by ufw.
    iptables -C INPUT -p tcp --dport 443 -m conntrack --ctstate NEW -j ACCEPT 2>/dev/null ||
      iptables -I INPUT 1 -p tcp --dport 443 -m conntrack --ctstate NEW -j ACCEPT
    netfilter-persistent save
  else
    ufw default deny incoming
    ufw default allow outgoing
    ufw allow 22/tcp
    ufw allow 443/tcp
    ufw --force enable
  fi
}

step_user() {
  if ! getent passwd "$RUNE_USER" >/dev/null; then
    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$RUNE_USER"
  fi
}

# Fetches RUNE_PACKAGE_URL into a new release directory, installs its locked dependencies and
# switches $OPT_DIR/current to it. Forms: https://…/x.tar.gz (one top-level directory, as GitHub
# archives and `git archive --prefix` make), git+https://host/repo.git#REF, file:///path.tar.gz.
step_app() {
  local release tmp url ref
  release=$OPT_DIR/releases/$(date -u +%Y%m%dT%H%M%SZ)
  tmp=$(mktemp -d)
  install -d -m 0755 "$OPT_DIR/releases" "$release"
  case $RUNE_PACKAGE_URL in
    git+https://*)
      url=${RUNE_PACKAGE_URL#git+}
      ref=${url#*#}
      url=${url%%#*}
      [[ $RUNE_PACKAGE_URL == *'#'* && -n $ref ]] ||
        die "a git URL needs a ref: git+https://host/repo.git#v1.2.3 (a tag, branch or commit)"
      git -C "$release" init -q
      retry 3 git -C "$release" fetch -q --depth 1 "$url" "$ref"
      git -C "$release" checkout -q FETCH_HEAD
      git -C "$release" rev-parse HEAD >"$release/REVISION"
      rm -rf "$release/.git"
      ;;
    https://* | file://*)
      retry 3 curl -fsSL --proto '=https,file' -o "$tmp/rune.tar.gz" "$RUNE_PACKAGE_URL"
      if [[ -n $RUNE_PACKAGE_SHA256 ]]; then
        printf '%s  %s\n' "$RUNE_PACKAGE_SHA256" "$tmp/rune.tar.gz" | sha256sum --check --quiet ||
          die "the package at $RUNE_PACKAGE_URL does not match RUNE_PACKAGE_SHA256"
      fi
      tar -xzf "$tmp/rune.tar.gz" -C "$release" --strip-components=1 --no-same-owner
      ;;
    *) die "RUNE_PACKAGE_URL must start with https://, git+https:// or file://" ;;
  esac
  rm -rf "$tmp"
  [[ -f $release/package-lock.json && -f $release/apps/cli/bin/rune.js ]] ||
    die "$RUNE_PACKAGE_URL does not hold the Rune repository (no package-lock.json or apps/cli/bin/rune.js)"
  # No install scripts: nothing from the registry runs as root here (Rune needs none of them).
  (
    cd "$release"
    export ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip
    retry 3 npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn
  )
  chown -R root:root "$release"
  chmod -R go-w "$release"
  (cd / && node "$release/apps/cli/bin/rune.js" --help >/dev/null) || die "the new release does not start"
  ln -sfn "$release" "$OPT_DIR/current.new"
  mv -T "$OPT_DIR/current.new" "$OPT_DIR/current"
  # `rune` on the PATH for operators (backups, show-key, audit verify).
  install -d -m 0755 "$ROOT/usr/local/bin"
  printf '#!/bin/sh\nexec node %s/current/apps/cli/bin/rune.js "$@"\n' "$OPT_DIR" >"$ROOT/usr/local/bin/rune.new"
  chmod 0755 "$ROOT/usr/local/bin/rune.new"
  mv "$ROOT/usr/local/bin/rune.new" "$ROOT/usr/local/bin/rune"
  log "Rune release $(basename "$release") is current"
  find "$OPT_DIR/releases" -mindepth 1 -maxdepth 1 -type d | sort | head -n "-$RELEASES_KEPT" |
    while IFS= read -r old; do rm -rf "$old"; done
}

rune_cli() { (cd / && runuser -u "$RUNE_USER" -- node "$OPT_DIR/current/apps/cli/bin/rune.js" "$@"); }

step_keys() {
  install -d -m 0755 "$ETC_DIR" "$STATE_DIR"
  install -d -m 0700 "$ETC_DIR/credentials"
  # SECURITY: the KEK seals the Vault's secret key. It is made once and never replaced: a new one
  # could not open the sealed key set. Root-only here; systemd hands it to the Vault alone
  # (LoadCredential=), so it is never in the unit file, the environment or the data directory.
  if [[ ! -s $ETC_DIR/credentials/vault-kek ]]; then
    (
      umask 077
      head -c 32 /dev/urandom | base64 -w0 | tr -d '=' | tr '+/' '-_' >"$ETC_DIR/credentials/vault-kek.tmp"
      mv "$ETC_DIR/credentials/vault-kek.tmp" "$ETC_DIR/credentials/vault-kek"
    )
    log "generated the Vault KEK in $ETC_DIR/credentials/vault-kek (back it up with the sealed key set)"
  fi
  chmod 0600 "$ETC_DIR/credentials/vault-kek"
  local index_args
  if [[ $RUNE_RUN_INDEX == true ]]; then
    install -d -m 0700 -o "$RUNE_USER" -g "$RUNE_USER" "$STATE_DIR/index"
    # Creates the index identity on first use; the Vault trusts exactly this key.
    rune_cli index show-key --data-dir "$STATE_DIR/index" >"$ETC_DIR/index-signing.pub.tmp"
    index_args="--index-key-file $ETC_DIR/index-signing.pub --index-url http://127.0.0.1:$INDEX_PORT"
  else
    printf '%s\n' "$RUNE_INDEX_PUBLIC_KEY" >"$ETC_DIR/index-signing.pub.tmp"
    index_args="--index-key-file $ETC_DIR/index-signing.pub${RUNE_INDEX_URL:+ --index-url $RUNE_INDEX_URL}"
  fi
  chmod 0644 "$ETC_DIR/index-signing.pub.tmp"
  mv "$ETC_DIR/index-signing.pub.tmp" "$ETC_DIR/index-signing.pub"
  printf 'RUNE_VAULT_INDEX_ARGS="%s"\n' "$index_args" >"$ETC_DIR/vault.env"
}

wait_ready() {
  local name=$1 url=$2 deadline=$((SECONDS + 180))
  until curl -fsS --max-time 5 -o /dev/null "$url"; do
    ((SECONDS < deadline)) || die "$name is not ready at $url after 3 minutes (journalctl -u rune-$name)"
    sleep 2
  done
  log "$name is ready"
}

step_services() {
  install -m 0644 "$SRC_DIR/rune-vault.service" "$SRC_DIR/rune-index.service" \
    "$SRC_DIR/rune-tls.service" "$SRC_DIR/rune-tls.timer" /etc/systemd/system/
  systemctl daemon-reload
  systemctl enable rune-vault.service
  systemctl restart rune-vault.service
  wait_ready vault "http://127.0.0.1:$VAULT_PORT/health/ready"
  if [[ $RUNE_RUN_INDEX == true ]]; then
    systemctl enable rune-index.service
    systemctl restart rune-index.service
    wait_ready index "http://127.0.0.1:$INDEX_PORT/health/ready"
  else
    systemctl disable --now rune-index.service 2>/dev/null || true
  fi
}

step_tls() {
  install -m 0755 "$SRC_DIR/rune-tls.sh" /usr/local/sbin/rune-tls
  install -m 0755 "$SRC_DIR/rune-bootstrap-token.sh" /usr/local/sbin/rune-bootstrap-token
  /usr/local/sbin/rune-tls ensure
  systemctl enable --now rune-tls.timer
}

step_nginx() {
  install -m 0644 "$SRC_DIR/nginx-rune.conf" /etc/nginx/sites-available/rune.conf
  ln -sfn ../sites-available/rune.conf /etc/nginx/sites-enabled/rune.conf
  # Nothing listens on port 80: the cloud firewall closes it and ACME uses TLS-ALPN-01 on 443.
  rm -f /etc/nginx/sites-enabled/default
  install -d -m 0755 /etc/nginx/rune.d
  if [[ $RUNE_RUN_INDEX == true ]]; then
    install -m 0644 "$SRC_DIR/nginx-rune-index.conf" /etc/nginx/rune.d/index.conf
  else
    rm -f /etc/nginx/rune.d/index.conf
  fi
  nginx -t
  systemctl enable nginx.service
  systemctl restart nginx.service
}

# Through nginx and TLS, as a member would reach it: the certificate is verified too.
step_health() {
  local base=https://localhost curl_tls=(--cacert "$ETC_DIR/tls/ca.crt")
  if [[ $(cat "$ETC_DIR/tls/live/source" 2>/dev/null) == acme ]]; then
    base=https://$RUNE_DOMAIN
    curl_tls=(--resolve "$RUNE_DOMAIN:443:127.0.0.1")
  fi
  local paths=(/health/ready) path attempt
  if [[ $RUNE_RUN_INDEX == true ]]; then paths+=(/index/health/ready); fi
  for path in "${paths[@]}"; do
    for attempt in $(seq 1 60); do
      if curl -fsS --max-time 5 "${curl_tls[@]}" -o /dev/null "$base$path"; then
        log "healthy: $base$path"
        continue 2
      fi
      log "waiting for $base$path (attempt $attempt of 60)"
      sleep 5
    done
    install -d -m 0755 /var/lib/rune-deploy
    echo unhealthy >/var/lib/rune-deploy/status
    die "$base$path did not answer 200 within 5 minutes"
  done
  install -d -m 0755 /var/lib/rune-deploy
  echo healthy >/var/lib/rune-deploy/status
  log "Rune Vault is up behind nginx. First admin token: sudo rune-bootstrap-token"
}

main() {
  [[ $(id -u) == 0 ]] || die "run as root"
  local steps=("$@")
  ((${#steps[@]} > 0)) || steps=("${ALL_STEPS[@]}")
  if [[ -w $(dirname "$LOG_FILE") ]]; then exec > >(tee -a "$LOG_FILE") 2>&1; fi
  load_config
  local step
  for step in "${steps[@]}"; do
    [[ " ${ALL_STEPS[*]} " == *" $step "* ]] || die "unknown step '$step' (steps: ${ALL_STEPS[*]})"
    log "step $step"
    "step_$step"
  done
  log "done: ${steps[*]}"
}

main "$@"
