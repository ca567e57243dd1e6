# One Rune Vault VM in its own VCN: HTTPS (443) from anywhere, SSH only from var.admin_cidr, a
# reserved public IP, and cloud-init that installs Rune, nginx and the certificate.

locals {
  vcn_cidr    = "10.42.0.0/16"
  subnet_cidr = "10.42.1.0/24"
  is_flex     = endswith(var.instance_shape, ".Flex")
  public_ip   = oci_core_public_ip.vault.ip_address
  vault_url   = var.domain != "" ? "https://${var.domain}" : "https://${local.public_ip}"
}

data "oci_identity_availability_domains" "all" {
  compartment_id = var.tenancy_ocid
}

# Canonical's Ubuntu 24.04 platform images built for the shape (aarch64 for A1), newest first.
data "oci_core_images" "ubuntu" {
  compartment_id           = var.compartment_ocid
  operating_system         = "Canonical Ubuntu"
  operating_system_version = "24.04"
  shape                    = var.instance_shape
  state                    = "AVAILABLE"
  sort_by                  = "TIMECREATED"
  sort_order               = "DESC"
}

resource "oci_core_vcn" "rune" {
  compartment_id = var.compartment_ocid
  cidr_blocks    = [local.vcn_cidr]
  display_name   = "${var.name}-vcn"
  dns_label      = "rune"
}

resource "oci_core_internet_gateway" "rune" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.rune.id
  display_name   = "${var.name}-igw"
  enabled        = true
}

resource "oci_core_route_table" "rune" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.rune.id
  display_name   = "${var.name}-rt"

  route_rules {
    destination       = "0.0.0.0/0"
    destination_type  = "CIDR_BLOCK"
    network_entity_id = oci_core_internet_gateway.rune.id
  }
}

resource "oci_core_security_list" "vault" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.rune.id
  display_name   = "${var.name}-vault"

  # apt, NodeSource, npm, the Rune package and Let's Encrypt.
  egress_security_rules {
    description = "Outbound: packages and ACME"
    destination = "0.0.0.0/0"
    protocol    = "all"
  }

  # SECURITY: 443 is the only port open to the world.
  ingress_security_rules {
    description = "HTTPS to nginx in front of the Vault"
    source      = "0.0.0.0/0"
    source_type = "CIDR_BLOCK"
    protocol    = "6" # TCP

    tcp_options {
      min = 443
      max = 443
    }
  }

  ingress_security_rules {
    description = "SSH from the admin CIDR only"
    source      = var.admin_cidr
    source_type = "CIDR_BLOCK"
    protocol    = "6" # TCP

    tcp_options {
      min = 22
      max = 22
    }
  }

  # ICMP "fragmentation needed" (type 3, code 4): path MTU discovery, as OCI's default list has it.
  ingress_security_rules {
    description = "Path MTU discovery"
    source      = "0.0.0.0/0"
    source_type = "CIDR_BLOCK"
    protocol    = "1" # ICMP

    icmp_options {
      type = 3
      code = 4
    }
  }
}

resource "oci_core_subnet" "rune" {
  compartment_id             = var.compartment_ocid
  vcn_id                     = oci_core_vcn.rune.id
  cidr_block                 = local.subnet_cidr
  display_name               = "${var.name}-subnet"
  dns_label                  = "vault"
  route_table_id             = oci_core_route_table.rune.id
  security_list_ids          = [oci_core_security_list.vault.id]
  prohibit_public_ip_on_vnic = false
}

# OCI cannot attach a reserved IP at launch, so its address is unknown to cloud-init; the VM asks
# public_ip_lookup_url for it (only to name it in the private-CA certificate).
module "cloud_init" {
  source = "../modules/rune-cloud-init"

  rune_package_url    = var.rune_package_url
  rune_package_sha256 = var.rune_package_sha256
  domain              = var.domain
  acme_email          = var.acme_email
  run_index           = var.run_index
  index_public_key    = var.index_public_key
  index_url           = var.index_url
  # Oracle's Ubuntu images ship iptables rules that ufw must not replace.
  host_firewall = "iptables"
}

resource "oci_core_instance" "vault" {
  compartment_id      = var.compartment_ocid
  availability_domain = data.oci_identity_availability_domains.all.availability_domains[var.availability_domain_number - 1].name
  display_name        = "${var.name}-vault"
  shape               = var.instance_shape

  dynamic "shape_config" {
    for_each = local.is_flex ? [1] : []
    content {
      ocpus         = var.instance_ocpus
      memory_in_gbs = var.instance_memory_gbs
    }
  }

  source_details {
    source_type             = "image"
    source_id               = data.oci_core_images.ubuntu.images[0].id
    boot_volume_size_in_gbs = var.boot_volume_gb
  }

  create_vnic_details {
    subnet_id        = oci_core_subnet.rune.id
    assign_public_ip = false
    hostname_label   = "vault"
  }

  metadata = {
    ssh_authorized_keys = trimspace(var.ssh_public_key)
    user_data           = module.cloud_init.user_data_base64gzip
  }

  instance_options {
    are_legacy_imds_endpoints_disabled = true
  }

  lifecycle {
    # The VM's disk holds the Vault's keys: a newer Ubuntu image or changed settings must never
    # replace it. Upgrade in place (README.md), or replace the instance deliberately.
    ignore_changes = [metadata["user_data"], source_details[0].source_id]

    precondition {
      condition     = length(data.oci_core_images.ubuntu.images) > 0
      error_message = "No Canonical Ubuntu 24.04 image for ${var.instance_shape} in this region."
    }
  }
}

data "oci_core_vnic_attachments" "vault" {
  compartment_id = var.compartment_ocid
  instance_id    = oci_core_instance.vault.id
}

data "oci_core_private_ips" "vault" {
  vnic_id = data.oci_core_vnic_attachments.vault.vnic_attachments[0].vnic_id
}

# Reserved: it survives the VM, so DNS records stay valid if the VM is ever replaced.
resource "oci_core_public_ip" "vault" {
  compartment_id = var.compartment_ocid
  lifetime       = "RESERVED"
  display_name   = "${var.name}-vault"
  private_ip_id  = data.oci_core_private_ips.vault.private_ips[0].id
}
