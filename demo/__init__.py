"""demo stage of organic-nps (see docs/CONTRACTS.md)."""
