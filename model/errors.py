"""The one exception type the model raises for operations a user can fix."""


class BoardError(Exception):
    """An operation that cannot be done, with a message a user can act on."""
