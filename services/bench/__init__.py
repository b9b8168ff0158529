"""`plantrack bench`: the machine's limits and plantrack's stages, measured side by side."""
