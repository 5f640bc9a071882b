"""Occasions and budgets: /api/v1/occasions."""
