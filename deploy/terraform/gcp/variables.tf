variable "project_id" {
  description = "ID of the Google Cloud project to deploy into (the Compute Engine API must be enabled)."
  type        = string
}

variable "region" {
  description = "Google Cloud region to deploy into."
  type        = string
  default     = "us-central1"
}

variable "zone" {
  description = "Zone of the Vault VM, inside region."
  type        = string
  default     = "us-central1-a"
}

variable "name" {
  description = "Prefix of every resource name, so several Vaults can share a project."
  type        = string
  default     = "rune"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.name))
    error_message = "name must be 1-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "machine_type" {
  description = "Compute Engine machine type of the Vault VM (2 vCPU and 4 GiB hold a Vault and an index for a team); Arm types (t2a-, c4a-) get the arm64 Ubuntu image."
  type        = string
  default     = "e2-medium"
}

variable "boot_disk_gb" {
  description = "Size of the pd-balanced boot disk in GB (code, keys, index data)."
  type        = number
  default     = 30

  validation {
    condition     = var.boot_disk_gb >= 20
    error_message = "boot_disk_gb must be at least 20."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key (one line, e.g. the contents of ~/.ssh/id_ed25519.pub) allowed to log in as ubuntu."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh.com) [A-Za-z0-9+/=]+( .*)?$", trimspace(var.ssh_public_key)))
    error_message = "ssh_public_key must be one OpenSSH public key line, such as \"ssh-ed25519 AAAA… you@laptop\"."
  }
}

variable "admin_cidr" {
  description = "IPv4 CIDR allowed to reach SSH (port 22), e.g. your office's 203.0.113.0/24 or your address with /32. No default on purpose: SSH is never open to the world."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.admin_cidr)) && try(tonumber(split("/", var.admin_cidr)[1]) >= 8, false)
    error_message = "admin_cidr must be an IPv4 CIDR of /8 or narrower (0.0.0.0/0 is refused: SSH must not be open to the world)."
  }
}

variable "domain" {
  description = "DNS name for the Vault (e.g. vault.example.com), pointed at vault_public_ip with an A record: the VM then gets a Let's Encrypt certificate. Empty: a certificate from a private CA made on the VM."
  type        = string
  default     = ""
}

variable "acme_email" {
  description = "Contact email for the Let's Encrypt account; required when domain is set."
  type        = string
  default     = ""
}

variable "rune_package_url" {
  description = "Where the VM fetches Rune (not on npm yet): an https:// source tarball with one top-level directory, or git+https://host/repo.git#REF with a tag, branch or commit."
  type        = string
}

variable "rune_package_sha256" {
  description = "SHA-256 (hex) the tarball at rune_package_url must have; empty skips the check."
  type        = string
  default     = ""
}

variable "run_index" {
  description = "Also run a Rune index on the VM, served at https://HOST/index. False: set index_public_key (and index_url) to an index run elsewhere."
  type        = bool
  default     = true
}

variable "index_public_key" {
  description = "With run_index = false: the external index's Ed25519 public key (base64url, `rune index show-key`)."
  type        = string
  default     = ""
}

variable "index_url" {
  description = "With run_index = false: the external index's https:// URL, where the Vault plants canaries."
  type        = string
  default     = ""
}
