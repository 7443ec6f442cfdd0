"""Secrets handed out once (session tokens, invitation, confirmation and reset links,
recovery codes) are stored only as their digest: the table lets nobody in."""

from __future__ import annotations

import hashlib


def digest(token: str) -> str:
    """The SHA-256 of a random token, as stored and looked up (64 hex characters).
    Enough for random tokens; a password takes argon2 instead."""
    return hashlib.sha256(token.encode()).hexdigest()
