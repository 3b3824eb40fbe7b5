"""The identity service of Pivotal Flow."""
