"""Identity's domain model and rules: plain Python, no I/O, no infrastructure imports."""
