output "vault_url" {
  description = "URL of the Vault for member configs (vaultUrl)."
  value       = local.vault_url
}

output "index_url" {
  description = "URL of the index on the VM for member configs (indexUrl); null when run_index = false."
  value       = var.run_index ? "${local.vault_url}/index" : null
}

output "vault_public_ip" {
  description = "Static public IPv4 address of the Vault (point the domain's A record here)."
  value       = local.public_ip
}

output "ssh_command" {
  description = "SSH into the Vault VM (from admin_cidr)."
  value       = "ssh ubuntu@${local.public_ip}"
}

# SECURITY: the first admin token never leaves the VM except through this SSH command, so it is
# in neither the Terraform state nor the cloud's metadata. `sh -c "$(terraform output -raw vault_token)"`
# prints it once the installation is healthy.
output "vault_token" {
  description = "Command that prints the first admin's bearer token over SSH (it waits for the installation to finish)."
  value       = "ssh ubuntu@${local.public_ip} sudo rune-bootstrap-token"
  sensitive   = true
}
