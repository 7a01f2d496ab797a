"""Developer tools that are not part of the kksync package."""
