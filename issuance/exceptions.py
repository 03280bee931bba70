class IssuanceError(Exception):
    """A rule of the process stops this action; the message is for the user."""

    def __init__(self, message):
        self.message = message
        super().__init__(message)
