"""Building the Kobo bundle (make kobo-bundle) and the rules it must pass."""
