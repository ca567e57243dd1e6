# One Rune Vault VM in its own VPC: HTTPS (443) from anywhere, SSH only from var.admin_cidr, a
# static Elastic IP, and cloud-init that installs Rune, nginx and the certificate.

locals {
  vpc_cidr    = "10.42.0.0/16"
  subnet_cidr = "10.42.1.0/24"
  # Canonical's account, which publishes the official Ubuntu images.
  canonical_owner = "099720109477"
  arch            = contains(data.aws_ec2_instance_type.vault.supported_architectures, "arm64") ? "arm64" : "amd64"
  public_ip       = aws_eip.vault.public_ip
  vault_url       = var.domain != "" ? "https://${var.domain}" : "https://${local.public_ip}"
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_ec2_instance_type" "vault" {
  instance_type = var.instance_type
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = [local.canonical_owner]

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${local.arch}-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

resource "aws_vpc" "rune" {
  cidr_block           = local.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = "${var.name}-vpc" }
}

resource "aws_internet_gateway" "rune" {
  vpc_id = aws_vpc.rune.id

  tags = { Name = "${var.name}-igw" }
}

resource "aws_subnet" "rune" {
  vpc_id            = aws_vpc.rune.id
  cidr_block        = local.subnet_cidr
  availability_zone = data.aws_availability_zones.available.names[0]
  # The Elastic IP is the VM's only public address.
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-subnet" }
}

resource "aws_route_table" "rune" {
  vpc_id = aws_vpc.rune.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.rune.id
  }

  tags = { Name = "${var.name}-rt" }
}

resource "aws_route_table_association" "rune" {
  subnet_id      = aws_subnet.rune.id
  route_table_id = aws_route_table.rune.id
}

resource "aws_security_group" "vault" {
  name_prefix = "${var.name}-vault-"
  description = "Rune Vault: HTTPS from anywhere, SSH from the admin CIDR only"
  vpc_id      = aws_vpc.rune.id

  tags = { Name = "${var.name}-vault" }

  lifecycle {
    create_before_destroy = true
  }
}

# SECURITY: 443 is the only port open to the world.
resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.vault.id
  description       = "HTTPS to nginx in front of the Vault"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.vault.id
  description       = "SSH from the admin CIDR only"
  cidr_ipv4         = var.admin_cidr
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

# ICMP "fragmentation needed" (type 3, code 4): path MTU discovery for the VPC's 9001-byte MTU.
resource "aws_vpc_security_group_ingress_rule" "path_mtu" {
  security_group_id = aws_security_group.vault.id
  description       = "Path MTU discovery"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "icmp"
  from_port         = 3
  to_port           = 4
}

# apt, NodeSource, npm, the Rune package and Let's Encrypt.
resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.vault.id
  description       = "Outbound: packages and ACME"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

resource "aws_key_pair" "admin" {
  key_name_prefix = "${var.name}-admin-"
  public_key      = trimspace(var.ssh_public_key)
}

# Allocated before the VM so that its address can go into the VM's certificate.
resource "aws_eip" "vault" {
  domain = "vpc"

  tags = { Name = "${var.name}-vault" }

  depends_on = [aws_internet_gateway.rune]
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

resource "aws_instance" "vault" {
  ami                         = data.aws_ami.ubuntu.id
  instance_type               = var.instance_type
  subnet_id                   = aws_subnet.rune.id
  vpc_security_group_ids      = [aws_security_group.vault.id]
  key_name                    = aws_key_pair.admin.key_name
  associate_public_ip_address = false
  user_data_base64            = module.cloud_init.user_data_base64gzip

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gb
    encrypted             = true
    delete_on_termination = true
  }

  tags = { Name = "${var.name}-vault" }

  lifecycle {
    # The VM's disk holds the Vault's keys: a newer Ubuntu image or changed settings must never
    # replace it. Upgrade in place (README.md), or taint the instance deliberately.
    ignore_changes = [ami, user_data, user_data_base64]
  }
}

resource "aws_eip_association" "vault" {
  instance_id   = aws_instance.vault.id
  allocation_id = aws_eip.vault.id
}
