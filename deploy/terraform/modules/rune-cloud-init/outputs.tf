output "user_data" {
  description = "The cloud-config document, as text (GCP metadata user-data)."
  value       = local.user_data

  precondition {
    condition     = length(local.problems) == 0
    error_message = "Rune settings: ${join("; ", local.problems)}."
  }
}

output "user_data_base64gzip" {
  description = "The cloud-config document, gzip-compressed and base64-encoded (AWS user_data_base64, capped at 16 KiB; OCI metadata user_data); cloud-init decompresses it."
  value       = base64gzip(local.user_data)

  precondition {
    condition     = length(local.problems) == 0
    error_message = "Rune settings: ${join("; ", local.problems)}."
  }
}
