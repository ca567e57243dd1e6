variable "tenancy_ocid" {
  description = "OCID of the tenancy (used to list availability domains)."
  type        = string

  validation {
    condition     = startswith(var.tenancy_ocid, "ocid1.tenancy.")
    error_message = "tenancy_ocid must be a tenancy OCID (ocid1.tenancy.…)."
  }
}

variable "compartment_ocid" {
  description = "OCID of the compartment that receives every resource (the tenancy OCID for the root compartment)."
  type        = string

  validation {
    condition     = can(regex("^ocid1\\.(compartment|tenancy)\\.", var.compartment_ocid))
    error_message = "compartment_ocid must be a compartment or tenancy OCID."
  }
}

variable "region" {
  description = "OCI region identifier, e.g. eu-frankfurt-1 (Always Free resources exist only in the home region)."
  type        = string
}

variable "oci_config_profile" {
  description = "Profile of ~/.oci/config that holds the API key Terraform signs requests with."
  type        = string
  default     = "DEFAULT"
}

variable "name" {
  description = "Prefix of every resource name, so several Vaults can share a compartment."
  type        = string
  default     = "rune"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.name))
    error_message = "name must be 1-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "availability_domain_number" {
  description = "Which availability domain of the region hosts the VM (1, 2 or 3); try another when one reports \"Out of host capacity\" for A1."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2, 3], var.availability_domain_number)
    error_message = "availability_domain_number must be 1, 2 or 3."
  }
}

variable "instance_shape" {
  description = "Compute shape of the Vault VM. VM.Standard.A1.Flex (Arm) is in the Always Free tier up to 4 OCPUs and 24 GB in all."
  type        = string
  default     = "VM.Standard.A1.Flex"
}

variable "instance_ocpus" {
  description = "OCPUs of a Flex shape (ignored for fixed shapes)."
  type        = number
  default     = 1
}

variable "instance_memory_gbs" {
  description = "Memory in GB of a Flex shape (ignored for fixed shapes)."
  type        = number
  default     = 6
}

variable "boot_volume_gb" {
  description = "Size of the boot volume in GB (code, keys, index data); Always Free covers 200 GB of block storage in all."
  type        = number
  default     = 50

  validation {
    condition     = var.boot_volume_gb >= 50
    error_message = "boot_volume_gb must be at least 50 (OCI's minimum)."
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
