"""Announcing appends to other processes: the channel PostgreSQL's recorder NOTIFYs on
(`events.recorders.postgres`) and the service's listener LISTENs to."""

CHANNEL = "timeline_events"
