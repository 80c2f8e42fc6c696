"""Documents known by their SHA-256: Apollo's automatic persisted queries, shared by every
API process through Redis, and the trusted documents of ``MEDAPPT_TRUSTED_DOCUMENTS``."""
