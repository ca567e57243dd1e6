# `terraform test` with a mocked AWS provider: the whole configuration plans and applies offline,
# with no account. deploy/test/terraform.test.ts runs it where a local provider mirror exists.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = { names = ["us-east-1a"] }
  }
  mock_data "aws_ec2_instance_type" {
    defaults = { supported_architectures = ["x86_64"] }
  }
  mock_data "aws_ami" {
    defaults = { id = "ami-0123456789abcdef0" }
  }
  mock_resource "aws_eip" {
    defaults = { public_ip = "203.0.113.7" }
  }
}

variables {
  ssh_public_key   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@example"
  admin_cidr       = "198.51.100.7/32"
  rune_package_url = "git+https://example.com/rune.git#v0.1.0"
}

run "outputs_name_the_static_ip" {
  command = apply

  assert {
    condition     = output.vault_url == "https://203.0.113.7" && output.vault_public_ip == "203.0.113.7"
    error_message = "vault_url and vault_public_ip must use the Elastic IP"
  }
  assert {
    condition     = output.index_url == "https://203.0.113.7/index"
    error_message = "index_url must be the Vault URL plus /index"
  }
  assert {
    condition     = output.ssh_command == "ssh ubuntu@203.0.113.7"
    error_message = "ssh_command must log in as ubuntu on the Elastic IP"
  }
  assert {
    condition     = output.vault_token == "ssh ubuntu@203.0.113.7 sudo rune-bootstrap-token"
    error_message = "vault_token must be the SSH command that prints the token"
  }
  assert {
    condition     = aws_instance.vault.instance_type == "t3.medium" && !aws_instance.vault.associate_public_ip_address
    error_message = "the VM is a t3.medium whose only public address is the Elastic IP"
  }
  assert {
    condition     = aws_instance.vault.metadata_options[0].http_tokens == "required" && aws_instance.vault.root_block_device[0].encrypted
    error_message = "IMDSv2 only, encrypted root volume"
  }
}

run "domain_names_the_vault" {
  command = plan

  variables {
    domain     = "vault.example.com"
    acme_email = "admin@example.com"
    run_index  = false
    # Any 32-byte key in base64url.
    index_public_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  }

  assert {
    condition     = output.vault_url == "https://vault.example.com" && output.index_url == null
    error_message = "with a domain the URL uses it; without run_index there is no index_url"
  }
}

run "ssh_from_the_world_is_refused" {
  command = plan

  variables {
    admin_cidr = "0.0.0.0/0"
  }

  expect_failures = [var.admin_cidr]
}
