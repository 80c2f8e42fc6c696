"""Shared test helpers: real servers, an API process, SQL statement counting."""
