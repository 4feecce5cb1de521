"""Error replies become the documented exception classes, whichever reader parses them."""
import pytest

from aioredis_cy import errors
from aioredis_cy.parser import reader_class

CASES = [
    ("ERR unknown command 'x'", errors.ReplyError),
    ("WRONGTYPE Operation against a key holding the wrong kind of value", errors.ReplyError),
    ("ERR max number of clients reached", errors.MaxClientsError),
    ("NOAUTH Authentication required.", errors.AuthError),
    ("WRONGPASS invalid username-password pair or user is disabled.", errors.AuthError),
    ("ERR invalid password", errors.AuthError),
    ("ERR Client sent AUTH, but no password is set", errors.AuthError),
    ("READONLY You can't write against a read only replica.", errors.ReadOnlyError),
    ("BUSYGROUP Consumer Group name already exists", errors.BusyGroupError),
    ("NOPERM this user has no permissions to run the 'set' command", errors.NoPermissionError),
    ("NOSCRIPT No matching script. Please use EVAL.", errors.NoScriptError),
    ("ERR", errors.ReplyError),
    ("", errors.ReplyError),
]


@pytest.mark.parametrize("message, expected", CASES)
def test_reply_error_picks_the_subclass(message, expected):
    error = errors.ReplyError(message)
    assert type(error) is expected
    assert error.args == (message,)


@pytest.mark.parametrize("reader", ["cython", "python"])
@pytest.mark.parametrize("message, expected", CASES)
def test_readers_build_the_same_errors(reader, message, expected):
    parser = reader_class(reader)()
    parser.feed(b"-" + message.encode() + b"\r\n")
    error = parser.gets()
    assert type(error) is expected
    assert error.args == (message,)
    assert str(error) == message


def test_hierarchy_matches_aioredis():
    assert issubclass(errors.AuthError, errors.ReplyError)
    assert issubclass(errors.ReadOnlyError, errors.RedisError)
    assert not issubclass(errors.ReadOnlyError, errors.ReplyError)
    assert issubclass(errors.WatchVariableError, errors.MultiExecError)
    assert issubclass(errors.MultiExecError, errors.PipelineError)
    assert issubclass(errors.ConnectionForcedCloseError, errors.ConnectionClosedError)
