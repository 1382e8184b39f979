"""Coordinator dashboards: the qualification of a chamber's volunteers (the central team: of all chambers)."""
