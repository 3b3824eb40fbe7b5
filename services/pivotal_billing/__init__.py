"""The billing service of Pivotal Flow."""
