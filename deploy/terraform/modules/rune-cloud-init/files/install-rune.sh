#!/usr/bin/env bash
# Installs a Rune Vault (and, with RUNE_RUN_INDEX=true, an index) on Ubuntu 24.04 behind nginx.
# cloud-init runs it once at first boot; run it again by hand to upgrade (it is idempotent):
#   sudo /usr/local/lib/rune-deploy/install-rune.sh            every step
#   sudo /usr/local/lib/rune-deploy/install-rune.sh app services health   only these steps
# Settings come from /etc/rune/deploy.env (written by Terraform; see deploy/terraform/README.md).
#
# Prefix install (deploy/test/install-prefix.test.ts runs this very file so): RUNE_ROOT=DIR puts
# every file under DIR and changes nothing outside it: no apt, firewall, useradd, systemctl or
# nginx (those steps only log that they are skipped), units written to DIR/etc/systemd/system with
# DIR's paths, RUNE_USER (default: the caller) never created, and health left out of the default
# steps because nothing starts the services. RUNE_PACKAGE_URL may then also be file:///CHECKOUT, a
# directory whose node_modules the release links to instead of running npm ci (no network).
set -Eeuo pipefail
umask 022

readonly ALL_STEPS=(packages node firewall user app keys services tls nginx health)
readonly NODE_MAJOR=20
# NodeSource's repository signing key; a downloaded key with another fingerprint is refused.
readonly NODESOURCE_KEY_FPR=6F71F525282841EEDAF851B42F59B5F99B1BE0B4
# Fixed on a VM (nginx-rune*.conf proxy to them); a prefix install may move them (tests run beside others).
VAULT_PORT=${RUNE_VAULT_PORT:-50080}
INDEX_PORT=${RUNE_INDEX_PORT:-50090}
readonly RELEASES_KEPT=3

SRC_DIR=${RUNE_DEPLOY_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# Empty on a VM. Set: a prefix install (see above); it must be a plain absolute path (sed-safe).
ROOT=${RUNE_ROOT:-}
ENV_FILE=${RUNE_DEPLOY_ENV:-$ROOT/etc/rune/deploy.env}
if [[ -n $ROOT ]]; then
  RUNE_USER=${RUNE_USER:-$(id -un)}
  RUNE_GROUP=${RUNE_GROUP:-$(id -gn "$RUNE_USER")}
else
  RUNE_USER=${RUNE_USER:-rune}
  RUNE_GROUP=${RUNE_GROUP:-$RUNE_USER}
fi
OPT_DIR=$ROOT/opt/rune
ETC_DIR=$ROOT/etc/rune
STATE_DIR=$ROOT/var/lib/rune
DEPLOY_STATE_DIR=$ROOT/var/lib/rune-deploy
UNIT_DIR=$ROOT/etc/systemd/system
SBIN_DIR=$ROOT/usr/local/sbin
LOG_FILE=${RUNE_INSTALL_LOG:-$ROOT/var/log/rune-install.log}

log() { printf '%s rune-install: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

is_prefix() { [[ -n $ROOT ]]; }

# skip_in_prefix STEP: true (and logs why) in a prefix install, where STEP would change the system.
skip_in_prefix() {
  is_prefix || return 1
  log "skipped $1: a prefix install changes nothing outside $ROOT"
}

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
  if is_prefix; then
    [[ $ROOT =~ ^/[A-Za-z0-9._/-]+$ && $ROOT != / ]] || die "RUNE_ROOT must be an absolute path of [A-Za-z0-9._/-], not /"
    [[ $VAULT_PORT =~ ^[0-9]+$ && $INDEX_PORT =~ ^[0-9]+$ ]] || die "RUNE_VAULT_PORT and RUNE_INDEX_PORT must be numbers"
  else
    [[ $VAULT_PORT == 50080 && $INDEX_PORT == 50090 ]] ||
      die "RUNE_VAULT_PORT and RUNE_INDEX_PORT are for prefix installs; nginx proxies to 50080 and 50090"
    [[ $RUNE_PACKAGE_URL != file://*/ ]] || die "a checkout directory as RUNE_PACKAGE_URL is for prefix installs"
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
  skip_in_prefix packages && return
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
  if is_prefix; then
    command -v node >/dev/null || die "a prefix install uses the node on PATH, and there is none"
    log "skipped node: a prefix install uses $(command -v node) ($(node --version))"
    return
  fi
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
  skip_in_prefix firewall && return
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
  if is_prefix; then
    getent passwd "$RUNE_USER" >/dev/null || die "RUNE_USER $RUNE_USER does not exist (a prefix install creates no user)"
    return
  fi
  if ! getent passwd "$RUNE_USER" >/dev/null; then
    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$RUNE_USER"
  fi
}

# copy_checkout DIR RELEASE: DIR's files as a release would hold them (tracked and untracked, not
# ignored: no node_modules, no .git), then node_modules entries linking to DIR's installed ones.
copy_checkout() {
  local dir=$1 release=$2 entry
  git -C "$dir" rev-parse --is-inside-work-tree >/dev/null ||
    die "git cannot read $dir as a checkout (not one, or another user's: see git's safe.directory)"
  git -C "$dir" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' entry; do [[ ! -e $dir/$entry ]] || printf '%s\0' "$entry"; done |
    tar -C "$dir" --null -T - -cf - | tar -C "$release" -xf - --no-same-owner
  git -C "$dir" rev-parse HEAD >"$release/REVISION"
  [[ -d $dir/node_modules ]] || die "$dir has no node_modules: run npm ci there first"
  install -d -m 0755 "$release/node_modules"
  for entry in "$dir"/node_modules/* "$dir"/node_modules/.bin; do
    if [[ -L $entry ]]; then
      cp -P "$entry" "$release/node_modules/" # an npm workspace link, relative: it stays in the release
    elif [[ $(basename "$entry") == @* ]]; then
      install -d -m 0755 "$release/node_modules/$(basename "$entry")"
      local scoped
      for scoped in "$entry"/*; do
        if [[ -L $scoped ]]; then cp -P "$scoped" "$release/node_modules/$(basename "$entry")/"; else
          ln -s "$scoped" "$release/node_modules/$(basename "$entry")/"
        fi
      done
    else
      ln -s "$entry" "$release/node_modules/"
    fi
  done
}

# Fetches RUNE_PACKAGE_URL into a new release directory, installs its locked dependencies and
# switches $OPT_DIR/current to it. Forms: https://…/x.tar.gz (one top-level directory, as GitHub
# archives and `git archive --prefix` make), git+https://host/repo.git#REF, file:///path.tar.gz,
# and in a prefix install file:///CHECKOUT/ (see copy_checkout).
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
    file://*/)
      copy_checkout "${RUNE_PACKAGE_URL#file://}" "$release"
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
  if [[ $RUNE_PACKAGE_URL != file://*/ ]]; then # a checkout brought its node_modules (copy_checkout)
    # No install scripts: nothing from the registry runs as root here (Rune needs none of them).
    (
      cd "$release"
      export ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip
      retry 3 npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn
    )
  fi
  # A prefix install's files stay the caller's; on a VM the service user must not own its code.
  is_prefix || chown -R root:root "$release"
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

rune_cli() {
  local as_user=(runuser -u "$RUNE_USER" --)
  [[ $RUNE_USER != "$(id -un)" ]] || as_user=()
  (cd / && "${as_user[@]}" node "$OPT_DIR/current/apps/cli/bin/rune.js" "$@")
}

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
    install -d -m 0700 -o "$RUNE_USER" -g "$RUNE_GROUP" "$STATE_DIR/index"
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

# install_unit NAME: the unit as shipped on a VM; in a prefix install, with the prefix's paths, the
# caller's node, user and ports (root's copy of the Vault's published key becomes the user's).
install_unit() {
  local edits=(-e "s#^User=rune\$#User=$RUNE_USER#" -e "s#^Group=rune\$#Group=$RUNE_GROUP#")
  if is_prefix; then
    edits+=(-e "s#/opt/rune/#$OPT_DIR/#g" -e "s#/etc/rune/#$ETC_DIR/#g" -e "s#/var/lib/rune/#$STATE_DIR/#g"
      -e "s#/usr/local/sbin/#$SBIN_DIR/#g" -e "s#^ExecStart=/usr/bin/node #ExecStart=$(command -v node) #"
      -e "s#-o root -g root #-o $RUNE_USER -g $RUNE_GROUP #"
      -e "s#--port 50080 #--port $VAULT_PORT #" -e "s#--port 50090 #--port $INDEX_PORT #")
  fi
  sed "${edits[@]}" "$SRC_DIR/$1" >"$UNIT_DIR/$1.new"
  chmod 0644 "$UNIT_DIR/$1.new"
  mv "$UNIT_DIR/$1.new" "$UNIT_DIR/$1"
}

step_services() {
  install -d -m 0755 "$UNIT_DIR"
  local unit
  for unit in rune-vault.service rune-index.service rune-tls.service rune-tls.timer; do install_unit "$unit"; done
  if is_prefix; then
    log "wrote the units to $UNIT_DIR; start rune-vault (and rune-index) as they say, then run the health step"
    return
  fi
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
  install -d -m 0755 "$SBIN_DIR"
  install -m 0755 "$SRC_DIR/rune-tls.sh" "$SBIN_DIR/rune-tls"
  install -m 0755 "$SRC_DIR/rune-bootstrap-token.sh" "$SBIN_DIR/rune-bootstrap-token"
  if is_prefix; then
    # rune-tls reads RUNE_ROOT too: no ACME and no nginx reload in a prefix install.
    RUNE_ROOT=$ROOT RUNE_DEPLOY_ENV=$ENV_FILE RUNE_TLS_DIR=$ETC_DIR/tls RUNE_ACME_DIR=$ROOT/var/lib/rune-tls \
      "$SBIN_DIR/rune-tls" ensure
    return
  fi
  "$SBIN_DIR/rune-tls" ensure
  systemctl enable --now rune-tls.timer
}

step_nginx() {
  skip_in_prefix nginx && return
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

# Through nginx and TLS, as a member would reach it: the certificate is verified too. A prefix
# install has no nginx: it asks the services on loopback, as their units make them listen.
step_health() {
  if is_prefix; then
    wait_ready vault "http://127.0.0.1:$VAULT_PORT/health/ready"
    if [[ $RUNE_RUN_INDEX == true ]]; then wait_ready index "http://127.0.0.1:$INDEX_PORT/health/ready"; fi
    install -d -m 0755 "$DEPLOY_STATE_DIR"
    echo healthy >"$DEPLOY_STATE_DIR/status"
    log "Rune Vault is up on 127.0.0.1:$VAULT_PORT. First admin token: RUNE_ROOT=$ROOT $SBIN_DIR/rune-bootstrap-token"
    return
  fi
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
    install -d -m 0755 "$DEPLOY_STATE_DIR"
    echo unhealthy >"$DEPLOY_STATE_DIR/status"
    die "$base$path did not answer 200 within 5 minutes"
  done
  install -d -m 0755 "$DEPLOY_STATE_DIR"
  echo healthy >"$DEPLOY_STATE_DIR/status"
  log "Rune Vault is up behind nginx. First admin token: sudo rune-bootstrap-token"
}

main() {
  is_prefix || [[ $(id -u) == 0 ]] || die "run as root"
  local steps=("$@")
  if ((${#steps[@]} == 0)); then
    steps=("${ALL_STEPS[@]}")
    # Nothing starts the services in a prefix install, so nothing could become healthy yet.
    if is_prefix; then unset 'steps[-1]'; fi # health, the last of ALL_STEPS
  fi
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
