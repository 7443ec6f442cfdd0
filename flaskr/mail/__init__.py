"""Email: an outbox written with the action that sends it, and the senders that empty it."""
