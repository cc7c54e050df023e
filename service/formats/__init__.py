"""Other formats of what the service serves and takes (CloudEvents, TimelineJS): pure
functions from stored events to documents and back, with no web framework, so that the
routes that use them stay thin."""
