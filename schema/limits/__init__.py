"""The door: what a document may ask for before anything runs (depth, aliases, cost, budgets)."""
