"""The rehearsal lab: real Debian endpoints, FRR routers and a SIP server on one Linux machine."""
