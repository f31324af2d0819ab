"""Commands: shell words and the entry script a command runs; Dockerfile RUN lines."""
