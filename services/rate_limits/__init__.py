"""Rate limits in Redis, shared by every API process."""
