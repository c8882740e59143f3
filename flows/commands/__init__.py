"""One module per `onps` sub-command; each exposes register(app)."""
