"""The core: the error type and the options record every layer above uses."""
