"""Tooling for development, tests and benchmarks: embedded servers, demo data, seed-scale. Imported by nothing in the product but the CLI commands that run it."""
