"""What the domain stands on: settings, errors, tokens, passwords, caches, rate
limits, document storage, logs."""
