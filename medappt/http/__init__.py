"""The HTTP edge: what every request and response goes through before and after GraphQL."""
