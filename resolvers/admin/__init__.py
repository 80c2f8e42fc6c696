"""Administrators set up clinics, doctors and schedules: one mutation a file."""
