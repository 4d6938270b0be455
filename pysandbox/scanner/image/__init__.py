"""Image scanner: a layered filesystem view of an image plus one module per rule (`rules/`)."""
