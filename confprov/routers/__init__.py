"""confprov routers (see its issue)."""
