"""The helper: the inline rendering of the runtime code, and the module written beside a script."""
