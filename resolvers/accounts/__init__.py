"""Verified addresses, password recovery and change, profile, deactivation: one resolver a file."""
