"""sfemu: a local HTTPS emulator of Salesforce orgs, for the tests and the demo of sfops.integration_users."""
DEFAULT_API_VERSION = "62.0"
