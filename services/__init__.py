"""Services the domain stands on: settings, tokens, passwords, caches, rate limits, document storage, logs."""
