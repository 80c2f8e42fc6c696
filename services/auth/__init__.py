"""Authentication: signing keys, tokens, passwords, the caller of a request."""
