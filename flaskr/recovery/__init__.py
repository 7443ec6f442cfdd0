"""An account's email address (confirmed by a link) and the password reset it makes possible."""
