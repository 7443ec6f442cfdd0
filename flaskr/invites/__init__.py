"""Invitations: single-use links that let someone register (with a role, if the admin chose one)."""
