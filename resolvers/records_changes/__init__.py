"""Uploading medical records: one mutation a file."""
