"""Thin resolvers: check who asks, call the domain, shape the answer."""
