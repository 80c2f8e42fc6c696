"""What the system does, in plain async functions that know nothing of GraphQL."""
