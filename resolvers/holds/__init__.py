"""Holds: holdSlot and releaseHold."""
