"""The one exception type for bad user input: shown as a single line, exit code 2."""


class InputError(Exception):
    """Bad input: names the file, the row or key, and what is wrong."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what
