terraform {
  required_version = ">= 1.5.0"

  required_providers {
    oci = {
      source  = "oracle/oci"
      version = ">= 5.0, < 8.0"
    }
  }
}

# Credentials come from ~/.oci/config (the profile in var.oci_config_profile), as `oci setup config` writes it.
provider "oci" {
  region              = var.region
  config_file_profile = var.oci_config_profile
}
