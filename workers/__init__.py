"""Background jobs run by arq: the outbox relay and the jobs it publishes."""
