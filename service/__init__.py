"""The HTTP service, its command line and its wiring."""
