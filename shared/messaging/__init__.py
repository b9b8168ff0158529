"""Messaging glue: topology, broker factory, outbox and inbox."""
