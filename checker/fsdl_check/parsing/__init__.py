"""Parsers for the files a repository audit reads. Each takes a path and text and never raises on bad input:
a file that does not parse comes back with `error` (and `error_line` where known) set."""
