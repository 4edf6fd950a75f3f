"""The one exception type a user's mistake raises.

The CLIs catch it, print its message on one line and exit non-zero, so a bad
flag, file, id or checkpoint never shows a traceback.
"""


class UserError(Exception):
    """A problem with the user's input: a flag, a file, an id or a checkpoint.

    The message names what is wrong and where (file, id or flag), in one line.
    """
