"""Two-factor login: TOTP codes from an authenticator app, and recovery codes."""
