#!/usr/bin/env bash
# Keeps nginx's certificate current (run by rune-tls.timer; `rune-tls ensure` by hand is safe):
#  - RUNE_DOMAIN set and its DNS pointing here: a Let's Encrypt certificate through TLS-ALPN-01 on
#    port 443 (lego), so port 80 never opens; nginx stops for the seconds an issuance takes;
#  - otherwise, or while DNS does not point here yet: a server certificate from a private CA made on
#    this VM (members pin /etc/rune/tls/ca.crt as caCert).
set -Eeuo pipefail
umask 077

ENV_FILE=${RUNE_DEPLOY_ENV:-/etc/rune/deploy.env}
TLS_DIR=${RUNE_TLS_DIR:-/etc/rune/tls}
ACME_DIR=${RUNE_ACME_DIR:-/var/lib/rune-tls}
# Set by install-rune.sh in a prefix install: there is no nginx to reload and no ACME on 443.
PREFIX=${RUNE_ROOT:-}
readonly RENEW_DAYS=30
readonly ACME_RETRY_AFTER_FAILURE_S=3600
readonly LEAF_DAYS=397

log() { printf 'rune-tls: %s\n' "$*" >&2; }

# shellcheck source=/dev/null
. "$ENV_FILE"
DOMAIN=${RUNE_DOMAIN:-}
ACME_EMAIL=${RUNE_ACME_EMAIL:-}
ACME_SERVER=${RUNE_ACME_SERVER:-https://acme-v02.api.letsencrypt.org/directory}

# The VM's public address: given by Terraform where it is known before boot (AWS, GCP), else asked
# of RUNE_PUBLIC_IP_LOOKUP_URL over HTTPS. A wrong answer only yields a certificate that does
# not match, which clients refuse: it cannot make them trust anything.
public_ip() {
  local ip=${RUNE_PUBLIC_IP:-}
  if [[ -z $ip && -s $ACME_DIR/public-ip ]]; then ip=$(<"$ACME_DIR/public-ip"); fi
  if [[ -z $ip && -n ${RUNE_PUBLIC_IP_LOOKUP_URL:-} ]]; then
    ip=$(curl -fsS --max-time 10 --proto '=https' "$RUNE_PUBLIC_IP_LOOKUP_URL" | tr -d '[:space:]') || ip=
    if [[ $ip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
      install -d -m 0700 "$ACME_DIR"
      printf '%s\n' "$ip" >"$ACME_DIR/public-ip"
    else
      ip=
    fi
  fi
  printf '%s' "$ip"
}

live_source() { cat "$TLS_DIR/live/source" 2>/dev/null || echo none; }

# True when the live certificate is missing or ends within DAYS days.
expires_within() {
  ! openssl x509 -checkend $(($1 * 86400)) -noout -in "$TLS_DIR/live/fullchain.pem" >/dev/null 2>&1
}

# install_live CERT KEY SOURCE: replaces the live pair atomically (nginx reads it on reload).
install_live() {
  install -d -m 0755 "$TLS_DIR/live"
  install -m 0644 "$1" "$TLS_DIR/live/fullchain.pem.new"
  install -m 0600 "$2" "$TLS_DIR/live/privkey.pem.new"
  mv "$TLS_DIR/live/privkey.pem.new" "$TLS_DIR/live/privkey.pem"
  mv "$TLS_DIR/live/fullchain.pem.new" "$TLS_DIR/live/fullchain.pem"
  printf '%s\n' "$3" >"$TLS_DIR/live/source"
  chmod 0644 "$TLS_DIR/live/source"
  log "installed a $3 certificate"
}

reload_nginx() { [[ -n $PREFIX ]] || systemctl try-reload-or-restart nginx.service || true; }

ensure_private_ca() {
  [[ -s $TLS_DIR/ca/ca.key && -s $TLS_DIR/ca.crt ]] && return
  install -d -m 0755 "$TLS_DIR"
  install -d -m 0700 "$TLS_DIR/ca"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS_DIR/ca/ca.key"
  openssl req -x509 -new -key "$TLS_DIR/ca/ca.key" -sha256 -days 3650 -subj "/CN=Rune Vault private CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$TLS_DIR/ca.crt.new"
  chmod 0644 "$TLS_DIR/ca.crt.new"
  mv "$TLS_DIR/ca.crt.new" "$TLS_DIR/ca.crt"
  log "created the private CA $TLS_DIR/ca.crt"
}

wanted_sans() {
  local ip sans="DNS:localhost,IP:127.0.0.1"
  ip=$(public_ip)
  [[ -n $DOMAIN ]] && sans+=",DNS:$DOMAIN"
  [[ -n $ip ]] && sans+=",IP:$ip"
  printf '%s' "$sans"
}

# The private-CA leaf is current when it is live, far from expiry and names every wanted address.
private_leaf_current() {
  [[ $(live_source) == private-ca ]] || return 1
  expires_within "$RENEW_DAYS" && return 1
  local have san wanted
  have=$(openssl x509 -noout -ext subjectAltName -in "$TLS_DIR/live/fullchain.pem" 2>/dev/null |
    tail -n +2 | tr -d ' ')
  IFS=, read -ra wanted <<<"$1"
  for san in "${wanted[@]}"; do
    # openssl prints "IP Address:1.2.3.4"; the config form is "IP:1.2.3.4".
    [[ ,$have, == *,"${san/#IP:/IPAddress:}",* ]] || return 1
  done
}

ensure_private_leaf() {
  local sans work
  sans=$(wanted_sans)
  private_leaf_current "$sans" && return 0
  ensure_private_ca
  work=$(mktemp -d)
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/server.key"
  openssl req -new -key "$work/server.key" -subj "/CN=${DOMAIN:-rune-vault}" -out "$work/server.csr"
  printf '%s\n' "subjectAltName=$sans" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$work/ext.cnf"
  openssl x509 -req -in "$work/server.csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca/ca.key" \
    -CAcreateserial -CAserial "$TLS_DIR/ca/ca.srl" -sha256 -days "$LEAF_DAYS" -extfile "$work/ext.cnf" \
    -out "$work/server.crt" 2>/dev/null
  cat "$work/server.crt" "$TLS_DIR/ca.crt" >"$work/fullchain.pem"
  install_live "$work/fullchain.pem" "$work/server.key" private-ca
  rm -rf "$work"
  reload_nginx
}

dns_points_here() {
  local ip resolved
  ip=$(public_ip)
  resolved=$(getent ahostsv4 "$DOMAIN" | awk '{ print $1 }' | sort -u) || return 1
  [[ -n $resolved ]] || return 1
  [[ -z $ip ]] || grep -qxF "$ip" <<<"$resolved"
}

acme_failed_recently() {
  [[ -f $ACME_DIR/last-failure ]] &&
    (($(date +%s) - $(stat -c %Y "$ACME_DIR/last-failure") < ACME_RETRY_AFTER_FAILURE_S))
}

# lego answers the TLS-ALPN-01 challenge on 443 itself, so nginx steps aside while it runs.
obtain_acme() {
  command -v lego >/dev/null || {
    log "lego is not installed"
    return 1
  }
  local lego=(lego --accept-tos --email "$ACME_EMAIL" --domains "$DOMAIN" --server "$ACME_SERVER"
    --path "$ACME_DIR/lego" --tls --key-type ec256)
  local nginx_was_active=false status=0
  if systemctl is-active --quiet nginx.service; then
    nginx_was_active=true
    systemctl stop nginx.service
  fi
  if [[ -s $ACME_DIR/lego/certificates/$DOMAIN.crt ]]; then
    "${lego[@]}" renew --days "$RENEW_DAYS" --no-random-sleep || status=$?
  else
    "${lego[@]}" run || status=$?
  fi
  if [[ $nginx_was_active == true ]]; then systemctl start nginx.service || true; fi
  return "$status"
}

ensure() {
  install -d -m 0700 "$ACME_DIR"
  if [[ -n $DOMAIN ]] && { [[ $(live_source) != acme ]] || expires_within "$RENEW_DAYS"; }; then
    if [[ -n $PREFIX ]]; then
      log "a prefix install ($PREFIX) gets no Let's Encrypt certificate"
    elif [[ -z $ACME_EMAIL ]]; then
      log "RUNE_ACME_EMAIL is empty: no Let's Encrypt certificate"
    elif ! dns_points_here; then
      log "$DOMAIN does not resolve to this VM ($(public_ip)) yet; retrying on the next timer run"
    elif acme_failed_recently; then
      log "the last Let's Encrypt attempt failed less than an hour ago; waiting"
    elif obtain_acme; then
      install_live "$ACME_DIR/lego/certificates/$DOMAIN.crt" "$ACME_DIR/lego/certificates/$DOMAIN.key" acme
      rm -f "$ACME_DIR/last-failure"
      reload_nginx
    else
      touch "$ACME_DIR/last-failure"
      log "Let's Encrypt issuance failed (see above); retrying in an hour"
    fi
  fi
  # A Let's Encrypt certificate is kept until it expires, even while its renewal keeps failing.
  if [[ $(live_source) == acme ]] && ! expires_within 0; then return 0; fi
  ensure_private_leaf
}

case ${1:-} in
  ensure) ensure ;;
  *)
    echo "usage: rune-tls ensure" >&2
    exit 2
    ;;
esac
