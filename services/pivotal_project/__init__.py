"""The project service of Pivotal Flow."""
