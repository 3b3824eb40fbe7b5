"""The time service of Pivotal Flow."""
