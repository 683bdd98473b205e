class CliError(Exception):
    """A user-facing error: printed as one line on stderr, exit status 2, never a traceback."""
