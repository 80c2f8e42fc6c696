"""Tooling for development, tests and benchmarks: embedded servers, demo data,
seed-scale. Nothing in the product imports it but the CLI commands that run it."""
