"""Booking and changing appointments: one mutation a file."""
