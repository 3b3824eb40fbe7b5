"""The service runtime shared by every Pivotal Flow service, written once."""
