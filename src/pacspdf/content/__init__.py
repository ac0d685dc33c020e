"""Content loading: a report folder (YAML + CSV) into a typed, located model."""
