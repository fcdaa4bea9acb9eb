"""Sources of policy changes for a multi-policy run: files changed in git,
a Terraform plan, and CloudFormation templates."""
