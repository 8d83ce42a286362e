"""confprov watch: the session-day board's engine (probes, collector, states, events)."""
