"""The gifts resource: its schemas, queries and routes."""
