"""The quotation service of Pivotal Flow."""
