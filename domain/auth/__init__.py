"""Accounts and sign-in sessions: passwords, token pairs, rotation, revocation."""
