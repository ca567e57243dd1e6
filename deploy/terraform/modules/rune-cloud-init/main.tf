# Renders the cloud-init user data that installs Rune on an Ubuntu 24.04 VM. No provider: only
# files and templates, so every cloud's root module uses the same installation.

terraform {
  required_version = ">= 1.5.0"
}

locals {
  # Every file under files/, as text; the template names each one.
  files = { for name in fileset("${path.module}/files", "*") : name => file("${path.module}/files/${name}") }

  # Shell-sourced by install-rune.sh and rune-tls: each value is single-quoted, and the variable
  # validations keep quotes, backslashes and newlines out of every value.
  settings = {
    RUNE_PACKAGE_URL          = var.rune_package_url
    RUNE_PACKAGE_SHA256       = var.rune_package_sha256
    RUNE_DOMAIN               = var.domain
    RUNE_ACME_EMAIL           = var.acme_email
    RUNE_ACME_SERVER          = var.acme_server
    RUNE_PUBLIC_IP            = var.public_ip
    RUNE_PUBLIC_IP_LOOKUP_URL = var.public_ip_lookup_url
    RUNE_RUN_INDEX            = var.run_index ? "true" : "false"
    RUNE_INDEX_PUBLIC_KEY     = var.index_public_key
    RUNE_INDEX_URL            = var.index_url
    RUNE_HOST_FIREWALL        = var.host_firewall
  }
  deploy_env = join("", [for key in sort(keys(local.settings)) : "${key}='${local.settings[key]}'\n"])

  # Checked by both outputs' preconditions, so a root module using either one sees them.
  problems = compact([
    var.domain != "" && var.acme_email == "" ? "set acme_email: Let's Encrypt needs a contact address when domain is set" : "",
    !var.run_index && var.index_public_key == "" ? "with run_index = false, set index_public_key to the key of the index the Vault trusts" : "",
    anytrue([for value in values(local.settings) : length(regexall("['\n\\\\]", value)) > 0]) ? "a setting contains a quote, a backslash or a newline" : "",
  ])

  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    deploy_env = local.deploy_env
    files      = local.files
  })
}
