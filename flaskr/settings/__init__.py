"""Site settings admins edit in the admin area, stored in the database."""
