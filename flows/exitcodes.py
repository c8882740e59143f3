"""Exit codes scripts can rely on; the README lists them."""

OK = 0
BAD_INPUT = 1  # the command finished, but some input was bad and was reported
USAGE = 2  # wrong arguments or an invalid config
MODEL_UNAVAILABLE = 3  # a model the command needs is missing or cannot be loaded (the message says how to build it)
RUN_FAILED = 4  # a run failed part-way; what was done is kept
SKIPPED = 5  # another run holds the store's lease: this one did nothing (try again when it ends)
