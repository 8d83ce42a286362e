"""confprov verify (see its issue)."""
