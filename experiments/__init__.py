"""One script per thesis experiment; run ``python -m experiments.<family>.<name> --help``."""
