"""The one error every codemod raises for input it cannot handle."""


class CodemodError(ValueError):
    """A source that cannot be transformed; str() is the one-line reason."""
