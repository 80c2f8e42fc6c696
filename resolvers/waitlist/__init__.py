"""The waitlist: join, leave, accept an offer."""
