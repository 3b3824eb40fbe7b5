"""Placeholder until the document renderer lands."""


def render_document(document, seller, settings) -> bytes:
    raise NotImplementedError
