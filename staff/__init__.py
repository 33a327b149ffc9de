"""Staff accounts of the bureau: roles, permissions, passwords, linked WeChat identities."""
