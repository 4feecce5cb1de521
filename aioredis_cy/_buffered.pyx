# cython: language_level=3
"""A pipeline's buffered command: what to send, then a future of its converted reply.

A pipeline of 1,000 commands used to make 1,000 asyncio futures (and a record each)
that nobody awaits: the caller awaits ``execute()`` and takes its list. A
``BufferedCommand`` is the record and the future in one small C object. It keeps its
outcome itself and makes an asyncio future only when something has to wait on it (it
is awaited, or given a done callback, before its reply is in); once it holds one,
that future owns the state and the command only forwards to it.

It has ``asyncio.Future``'s interface, and says it is one (its ``__class__`` is
``asyncio.Future``, as 1.x code checks with ``isinstance``; ``asyncio.isfuture`` is
true, so ``gather``, ``wait``, ``wait_for``, ``shield`` and ``ensure_future`` take it as a
future), but it is no subclass of it: ``type()`` tells. Done callbacks get the asyncio
future it made, which has the same outcome.
"""
import asyncio

cimport cython

cdef extern from "Python.h":
    bint PyExceptionInstance_Check(object obj)

cdef object Future = asyncio.Future
cdef object CancelledError = asyncio.CancelledError
cdef object InvalidStateError = asyncio.InvalidStateError

cdef tuple STATE_NAMES = ("pending", "finished", "cancelled")


cdef BufferedCommand buffered_command(object loop, object command, tuple args, object encoding,
                                      object converter):
    """A new pending command of ``loop`` (no ``__init__`` call, no argument parsing)."""
    cdef BufferedCommand buffered = BufferedCommand.__new__(BufferedCommand)
    buffered.loop = loop
    buffered.command = command
    buffered.args = args
    buffered.encoding = encoding
    buffered.converter = converter
    return buffered


@cython.final
@cython.freelist(16)
cdef class _Settled:
    """What ``await`` iterates on a command settled before anyone waited: it returns at once."""

    cdef BufferedCommand owner

    def __iter__(self):
        return self

    def __next__(self):
        cdef BufferedCommand owner = self.owner
        if owner.state == BS_CANCELLED:
            raise owner.cancelled_error()
        if owner.failed:
            raise owner.outcome
        raise StopIteration(owner.outcome)


@cython.freelist(2048)
cdef class BufferedCommand:
    """One command of a pipeline (see the module docstring); settled by its pipeline."""

    def __init__(self, command, tuple args=(), encoding=None, converter=None, *, loop=None):
        self.command = command
        self.args = args
        self.encoding = encoding
        self.converter = converter
        self.loop = loop   # (the running one, looked up when first needed, if None)

    cdef object materialise(self):
        """The asyncio future that holds the state from now on (made on first need)."""
        if self.future is None:
            self.future = self.get_loop().create_future()
            if self.state == BS_CANCELLED:
                self.future.cancel(self.outcome)
            elif self.state == BS_DONE:
                self.settle(self.outcome)
            self.outcome = None
        return self.future

    cdef object settle(self, object outcome):
        """Settle with ``outcome`` (an exception instance fails it) unless already done.

        Returns the outcome it ends up with: ``outcome``, the one it had, or a
        CancelledError if it was cancelled. An exception set here counts as retrieved:
        the pipeline's ``execute()`` reports it.
        """
        if self.future is not None:
            if self.future.done():
                return self.outcome_of_future()
            if PyExceptionInstance_Check(outcome):
                self.future.set_exception(outcome)
                self.future.exception()
            else:
                self.future.set_result(outcome)
            return outcome
        if self.state == BS_CANCELLED:
            return self.cancelled_error()
        if self.state == BS_DONE:
            return self.outcome
        self.state = BS_DONE
        self.failed = PyExceptionInstance_Check(outcome)
        self.outcome = outcome
        return outcome

    cdef object outcome_of_future(self):
        if self.future.cancelled():
            return CancelledError()
        exc = self.future.exception()
        return self.future.result() if exc is None else exc

    cdef object cancelled_error(self):
        return CancelledError() if self.outcome is None else CancelledError(self.outcome)

    # -- the asyncio.Future interface -------------------------------------

    @property
    def __class__(self):
        return Future

    @property
    def _asyncio_future_blocking(self):
        # Present and not None: ``asyncio.isfuture`` takes the command for a future.
        # It never blocks a task itself: ``await`` hands over the asyncio future.
        return False

    @property
    def _cancel_message(self):
        # (``gather`` reads these two of the futures it gathers)
        if self.future is not None:
            return self.future._cancel_message
        return self.outcome if self.state == BS_CANCELLED else None

    def _make_cancelled_error(self):
        if self.future is not None:
            return self.future._make_cancelled_error()
        return self.cancelled_error()

    def get_loop(self):
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        return self.loop

    def done(self):
        if self.future is not None:
            return self.future.done()
        return self.state != BS_PENDING

    def cancelled(self):
        if self.future is not None:
            return self.future.cancelled()
        return self.state == BS_CANCELLED

    def result(self):
        if self.future is not None:
            return self.future.result()
        if self.state == BS_PENDING:
            raise InvalidStateError("Result is not set.")
        if self.state == BS_CANCELLED:
            raise self.cancelled_error()
        if self.failed:
            raise self.outcome
        return self.outcome

    def exception(self):
        if self.future is not None:
            return self.future.exception()
        if self.state == BS_PENDING:
            raise InvalidStateError("Exception is not set.")
        if self.state == BS_CANCELLED:
            raise self.cancelled_error()
        return self.outcome if self.failed else None

    def cancel(self, msg=None):
        if self.future is not None:
            return self.future.cancel(msg)
        if self.state != BS_PENDING:
            return False
        self.state = BS_CANCELLED
        self.outcome = msg
        return True

    def set_result(self, result):
        if self.done():
            raise InvalidStateError(f"invalid state: {self!r}")
        self.settle(result)

    def set_exception(self, exception):
        if self.done():
            raise InvalidStateError(f"invalid state: {self!r}")
        if isinstance(exception, type):
            exception = exception()
        if not PyExceptionInstance_Check(exception):
            raise TypeError("invalid exception object")
        self.settle(exception)

    def add_done_callback(self, fn, *, context=None):
        future = self.materialise()
        if context is None:
            future.add_done_callback(fn)
        else:
            future.add_done_callback(fn, context=context)

    def remove_done_callback(self, fn):
        if self.future is None:
            return 0
        return self.future.remove_done_callback(fn)

    def __await__(self):
        cdef _Settled settled
        if self.future is None and self.state != BS_PENDING:
            settled = _Settled.__new__(_Settled)
            settled.owner = self
            return settled
        return self.materialise().__await__()

    __iter__ = __await__

    def __repr__(self):
        if self.future is not None:
            state = ("cancelled" if self.future.cancelled() else
                     "finished" if self.future.done() else "pending")
        else:
            state = STATE_NAMES[<int>self.state]
        return f"<BufferedCommand {self.command!r} {state}>"
