"""confprov provision (see its issue)."""
