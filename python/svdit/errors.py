"""The exception svdit raises for plans that are malformed or made for another model or token layout."""

import contextlib


class PlanError(ValueError):
    """A plan was refused. The message is svdit's C++ reader's: the file, the field (such as
    ``schedule[2].heads[3][1]`` or ``model.heads``) and what was expected versus found."""


@contextlib.contextmanager
def plan_errors():
    """Turns an exception of a torch.ops.svdit plan op into a PlanError carrying the C++ message."""
    try:
        yield
    except RuntimeError as error:  # the dispatcher delivers C++ exceptions as RuntimeError
        raise PlanError(_cxx_message(error)) from None


def _cxx_message(error: Exception) -> str:
    # c10::Error text may carry a C++ backtrace after the first lines; std::exception text is the message alone.
    text = str(error)
    return text.split("\nException raised from ", 1)[0].strip()


class ProfileError(RuntimeError):
    """svdit.profile failed: an option, a resume mismatch or a file problem. The message is the C++ profiler's
    (the option or field, expected versus found)."""


@contextlib.contextmanager
def profile_errors():
    """Turns an exception of torch.classes.svdit.ProfileSession into a ProfileError carrying the C++ message."""
    try:
        yield
    except ProfileError:
        raise
    except (RuntimeError, ValueError, IndexError) as error:  # C++ exceptions as torch's bindings deliver them
        raise ProfileError(_cxx_message(error)) from None
