"""People the family buys for: /api/v1/people."""
