"""Exit codes scripts can rely on; the README lists them."""

OK = 0
BAD_INPUT = 1  # the command finished, but some input was bad and was reported
USAGE = 2  # wrong arguments or an invalid config
NOT_BUILT = 3  # the stage this command needs is not built yet
RUN_FAILED = 4  # a run failed part-way; what was done is kept
SKIPPED = 5  # another run holds the store's lease: this one did nothing (try again when it ends)
