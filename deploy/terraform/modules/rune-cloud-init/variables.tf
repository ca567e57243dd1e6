variable "rune_package_url" {
  description = "Where the VM fetches Rune: an https:// source tarball with one top-level directory (a GitHub release archive, `git archive --prefix=rune/`), or git+https://host/repo.git#REF (a tag, branch or commit)."
  type        = string

  validation {
    condition     = can(regex("^(https://[^'\"\\s\\\\]+|git\\+https://[^'\"\\s\\\\#]+#[A-Za-z0-9._/-]+)$", var.rune_package_url))
    error_message = "rune_package_url must be an https:// tarball URL or git+https://host/repo.git#REF, without quotes, spaces or backslashes."
  }
}

variable "rune_package_sha256" {
  description = "SHA-256 (hex) the tarball at rune_package_url must have; empty skips the check (a git URL is pinned by a commit REF instead)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9a-f]{64})?$", var.rune_package_sha256))
    error_message = "rune_package_sha256 must be 64 lowercase hex characters, or empty."
  }
}

variable "domain" {
  description = "DNS name of the Vault (e.g. vault.example.com). Set: Let's Encrypt certificate once the name resolves to the VM. Empty: certificate from a private CA made on the VM."
  type        = string
  default     = ""

  validation {
    condition     = var.domain == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name such as vault.example.com, or empty."
  }
}

variable "acme_email" {
  description = "Contact email for the Let's Encrypt account; required when domain is set."
  type        = string
  default     = ""

  validation {
    condition     = var.acme_email == "" || can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", var.acme_email))
    error_message = "acme_email must be an email address, or empty."
  }
}

variable "acme_server" {
  description = "ACME directory URL; the Let's Encrypt staging directory (https://acme-staging-v02.api.letsencrypt.org/directory) is useful for trial runs."
  type        = string
  default     = "https://acme-v02.api.letsencrypt.org/directory"

  validation {
    condition     = can(regex("^https://[^'\"\\s\\\\]+$", var.acme_server))
    error_message = "acme_server must be an https:// URL."
  }
}

variable "public_ip" {
  description = "The VM's public IPv4 address when it is known before boot (it goes into the private-CA certificate); empty makes the VM ask public_ip_lookup_url."
  type        = string
  default     = ""

  validation {
    condition     = var.public_ip == "" || can(cidrhost("${var.public_ip}/32", 0))
    error_message = "public_ip must be an IPv4 address, or empty."
  }
}

variable "public_ip_lookup_url" {
  description = "HTTPS endpoint that answers with the caller's IPv4 address, used only when public_ip is empty."
  type        = string
  default     = "https://checkip.amazonaws.com"

  validation {
    condition     = can(regex("^https://[^'\"\\s\\\\]+$", var.public_ip_lookup_url))
    error_message = "public_ip_lookup_url must be an https:// URL."
  }
}

variable "run_index" {
  description = "Run a Rune index on the same VM, served under https://HOST/index/. False: the Vault trusts the index given by index_public_key and index_url."
  type        = bool
  default     = true
}

variable "index_public_key" {
  description = "With run_index = false: the external index's Ed25519 public key (base64url, its index-signing.pub or `rune index show-key`)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([A-Za-z0-9_-]{43})?$", var.index_public_key))
    error_message = "index_public_key must be 43 base64url characters (a 32-byte Ed25519 key), or empty."
  }
}

variable "index_url" {
  description = "With run_index = false: the external index's https:// URL, where the Vault plants canaries (recommended)."
  type        = string
  default     = ""

  validation {
    condition     = var.index_url == "" || can(regex("^https://[^'\"\\s\\\\]+$", var.index_url))
    error_message = "index_url must be an https:// URL, or empty."
  }
}

variable "host_firewall" {
  description = "Host firewall to configure: \"ufw\" (AWS and GCP Ubuntu images) or \"iptables\" (Oracle's Ubuntu images, whose shipped iptables rules ufw must not replace)."
  type        = string
  default     = "ufw"

  validation {
    condition     = contains(["ufw", "iptables"], var.host_firewall)
    error_message = "host_firewall must be \"ufw\" or \"iptables\"."
  }
}
