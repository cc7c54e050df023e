"""Event types and the append-only event store."""
