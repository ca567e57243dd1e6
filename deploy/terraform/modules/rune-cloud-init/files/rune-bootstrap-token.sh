#!/usr/bin/env bash
# Prints the first admin's bearer token (what Terraform's vault_token output runs over SSH).
#   sudo rune-bootstrap-token            waits for the installation to finish, then prints the token
#   sudo rune-bootstrap-token --delete   removes the token file once it is in your password manager
set -Eeuo pipefail

# RUNE_ROOT: a prefix install (install-rune.sh), whose files belong to whoever installed it.
ROOT=${RUNE_ROOT:-}
TOKEN_FILE=${RUNE_BOOTSTRAP_TOKEN_FILE:-$ROOT/var/lib/rune/vault/bootstrap-admin.token}
STATUS_FILE=$ROOT/var/lib/rune-deploy/status

[[ -n $ROOT || $(id -u) == 0 ]] || {
  echo "rune-bootstrap-token: run it with sudo (the token file is readable by the Vault's user only)" >&2
  exit 1
}

case ${1:-} in
  --delete)
    rm -f "$TOKEN_FILE"
    echo "rune-bootstrap-token: deleted $TOKEN_FILE" >&2
    exit 0
    ;;
  "") ;;
  *)
    echo "usage: rune-bootstrap-token [--delete]" >&2
    exit 2
    ;;
esac

# The Vault writes the token on its first start, a few minutes after boot.
if [[ -z $ROOT ]] && command -v cloud-init >/dev/null; then cloud-init status --wait >/dev/null 2>&1 || true; fi
if [[ $(cat "$STATUS_FILE" 2>/dev/null) != healthy ]]; then
  echo "rune-bootstrap-token: the installation did not finish healthy; see $ROOT/var/log/rune-install.log" >&2
  exit 1
fi
if [[ ! -s $TOKEN_FILE ]]; then
  echo "rune-bootstrap-token: $TOKEN_FILE is gone: the token was already taken and deleted." >&2
  echo "An admin can issue new tokens (POST /v1/members); see docs/services.md." >&2
  exit 1
fi
cat "$TOKEN_FILE"
echo "rune-bootstrap-token: store it, then run: sudo rune-bootstrap-token --delete" >&2
