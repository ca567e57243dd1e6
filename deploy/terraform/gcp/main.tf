# One Rune Vault VM in its own VPC network: HTTPS (443) from anywhere, SSH only from
# var.admin_cidr, a static external IP, and cloud-init that installs Rune, nginx and the certificate.

locals {
  subnet_cidr = "10.42.1.0/24"
  network_tag = "${var.name}-vault"
  arch        = can(regex("^(t2a|c4a)-", var.machine_type)) ? "arm64" : "amd64"
  public_ip   = google_compute_address.vault.address
  vault_url   = var.domain != "" ? "https://${var.domain}" : "https://${local.public_ip}"
}

data "google_compute_image" "ubuntu" {
  project = "ubuntu-os-cloud"
  family  = "ubuntu-2404-lts-${local.arch}"
}

resource "google_compute_network" "rune" {
  name                    = "${var.name}-vpc"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "rune" {
  name          = "${var.name}-subnet"
  region        = var.region
  network       = google_compute_network.rune.id
  ip_cidr_range = local.subnet_cidr
}

# SECURITY: 443 is the only port open to the world. A custom network denies all other ingress.
resource "google_compute_firewall" "https" {
  name          = "${var.name}-allow-https"
  network       = google_compute_network.rune.id
  description   = "HTTPS to nginx in front of the Vault"
  direction     = "INGRESS"
  source_ranges = ["0.0.0.0/0"]
  target_tags   = [local.network_tag]

  allow {
    protocol = "tcp"
    ports    = ["443"]
  }
}

resource "google_compute_firewall" "ssh" {
  name          = "${var.name}-allow-ssh-admin"
  network       = google_compute_network.rune.id
  description   = "SSH from the admin CIDR only"
  direction     = "INGRESS"
  source_ranges = [var.admin_cidr]
  target_tags   = [local.network_tag]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_address" "vault" {
  name         = "${var.name}-vault"
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"
}

module "cloud_init" {
  source = "../modules/rune-cloud-init"

  rune_package_url    = var.rune_package_url
  rune_package_sha256 = var.rune_package_sha256
  domain              = var.domain
  acme_email          = var.acme_email
  public_ip           = local.public_ip
  run_index           = var.run_index
  index_public_key    = var.index_public_key
  index_url           = var.index_url
  host_firewall       = "ufw"
}

resource "google_compute_instance" "vault" {
  name                      = "${var.name}-vault"
  machine_type              = var.machine_type
  zone                      = var.zone
  tags                      = [local.network_tag]
  allow_stopping_for_update = true

  boot_disk {
    initialize_params {
      image = data.google_compute_image.ubuntu.self_link
      size  = var.boot_disk_gb
      type  = "pd-balanced"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.rune.id

    access_config {
      nat_ip       = local.public_ip
      network_tier = "PREMIUM"
    }
  }

  metadata = {
    user-data              = module.cloud_init.user_data
    ssh-keys               = "ubuntu:${trimspace(var.ssh_public_key)}"
    block-project-ssh-keys = "true"
    # The key above, not OS Login, authorises SSH (an organisation policy may still enforce OS Login).
    enable-oslogin = "FALSE"
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  # No service_account block: the VM holds no Google credentials.

  lifecycle {
    # The VM's disk holds the Vault's keys: a newer Ubuntu image or changed settings must never
    # replace it. Upgrade in place (README.md), or replace the instance deliberately.
    ignore_changes = [metadata["user-data"], boot_disk[0].initialize_params[0].image]
  }
}
