# The contract of a pipeline's buffered command: its record, then the future of its outcome.
#
# The protocol (``_protocol.pyx``) cimports ``BufferedCommand``: ``CommandRecorder`` makes one per
# call with ``buffered_command``, ``execute_batch`` reads the fields to encode it, and the batch's
# outcomes are handed back with ``settle``.


cdef enum BufferedState:
    BS_PENDING = 0
    BS_DONE = 1        # ``outcome`` is the result, or the exception if ``failed``
    BS_CANCELLED = 2


cdef class BufferedCommand:
    cdef readonly object command
    cdef readonly tuple args
    cdef readonly object encoding    # as given to the command method (a marker when not given)
    cdef readonly object converter   # applied to a successful reply (QUEUED passes through), or None
    cdef object loop
    cdef object future      # the asyncio future made when something waits on it, or None
    cdef BufferedState state    # while ``future`` is None; afterwards ``future`` holds the state
    cdef bint failed
    cdef object outcome

    cdef object materialise(self)
    cdef object settle(self, object outcome)
    cdef object outcome_of_future(self)
    cdef object cancelled_error(self)


cdef BufferedCommand buffered_command(object loop, object command, tuple args, object encoding,
                                      object converter)
