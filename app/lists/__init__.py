"""Gift lists: /api/v1/lists."""
