# The contract of the protocol core: what it stores and the C-level entry points.
from aioredis_cy._buffered cimport BufferedCommand
from aioredis_cy._resp cimport Reader


cdef enum CommandKind:
    # How the protocol treats a command's reply besides resolving its future.
    KIND_PLAIN = 0
    KIND_SELECT = 1       # on OK, the connection's db becomes Waiter.arg
    KIND_MULTI = 2        # starts transaction bookkeeping
    KIND_EXEC = 3         # ends it; the reply array is decoded per queued command
    KIND_DISCARD = 4      # ends it without results
    KIND_SUBSCRIBE = 5    # a (p|s)(un)subscribe confirmation for the channel in Waiter.arg
    KIND_PING = 6         # allowed in pub/sub mode, where the reply is [b'pong', payload]
    KIND_QUIT = 7         # allowed in pub/sub mode; the server closes after replying
    KIND_PUBSUB_CMD = 8   # a subscribe-family command name given to execute()
    KIND_REFUSED = 9      # changes the reply stream (MONITOR, RESET, HELLO): refused
    KIND_CLIENT = 10      # CLIENT: refused for CLIENT REPLY, else plain
    KIND_RESET = 11       # RESET sent by reset(): on +RESET, db 0, no transaction, no subscriptions
    KIND_WATCH = 12       # on OK, a WATCH is active on the connection
    KIND_UNWATCH = 13     # on OK (or QUEUED), no WATCH is active any more


cdef enum ReplyShape:
    # How a RESP3 reply is brought to the shape RESP2 gives the command (beyond what the reader does).
    SHAPE_AS_IS = 0
    SHAPE_FLAT_PAIRS = 1   # [[member, score], ...] -> [member, score, ...] (ZRANGE ... WITHSCORES)
    SHAPE_PAIR_LIST = 2    # a map, flat [key, value, ...] -> [[key, value], ...] (XREAD)


cdef class Waiter:
    # One FIFO slot: the future that gets the next reply and how to treat it.
    cdef object future
    cdef object encoding
    cdef CommandKind kind
    cdef object arg
    cdef object converter   # applied to a successful reply (QUEUED passes through), or None
    cdef ReplyShape shape   # under RESP3 only
    cdef int group          # subscribe waiters: this one and those after it from the same command


cdef class BufferedMethod


cdef class CommandRecorder:
    # A pipeline's stand-in connection: records BufferedCommands; registers its methods' results.
    cdef readonly list records
    cdef readonly list results
    cdef readonly list direct
    cdef readonly Py_ssize_t owned
    cdef public bint closed
    cdef readonly bint plain
    cdef object loop
    cdef object track

    cdef BufferedCommand record(self, object command, tuple args, object encoding, object converter)
    cdef object call(self, object method, tuple args, dict kwargs, BufferedMethod shortcut)


cdef class BufferedMethod:
    # A pipeline's command method: CommandRecorder.call around the client's method.
    cdef CommandRecorder recorder
    cdef object method
    # Set by ``records_only``: what the stock method records for ``argc`` positional arguments.
    cdef object command
    cdef Py_ssize_t argc
    cdef object encoding
    cdef object converter


cdef class ReplySink:
    # A stand-in for a reply's future that the protocol settles with C calls (see resolve).
    cdef bint finished(self) except -1
    cdef int settle(self, object reply, bint failed) except -1


cdef class BatchReplies(ReplySink):
    # The stand-in future of every command of one batch (see CoreProtocol.execute_batch).
    cdef list outcomes
    cdef Py_ssize_t expected
    cdef object future

    cdef int add(self, object outcome) except -1


cdef class OutputBuffer:
    # Encoded commands waiting for the once-per-iteration flush.
    cdef char *data
    cdef Py_ssize_t length
    cdef Py_ssize_t capacity

    cdef int reserve(self, Py_ssize_t extra) except -1
    cdef int write(self, const char *src, Py_ssize_t n) except -1
    cdef int write_header(self, char kind, Py_ssize_t count) except -1
    cdef int write_bulk(self, object arg) except -1
    cdef bytes take(self)


cdef class CoreProtocol:
    cdef:
        object loop
        object transport
        OutputBuffer out
        bint flush_scheduled
        bint writing_paused
        bint closing
        readonly object close_exc   # why the connection closed, or None
        object closed_waiter
        dict future_kwargs   # {'loop': loop} when its create_future() makes plain asyncio futures

        list waiters
        Py_ssize_t head

        Reader fast_reader
        object reader
        object not_enough
        bytearray scratch   # reads for a reader other than fast_reader

        readonly object encoding
        readonly object db
        list transaction
        readonly bint watching   # a WATCH is active: set by its OK, cleared by UNWATCH/EXEC/DISCARD/loss
        object pubsub_channels
        object pubsub_patterns
        readonly Py_ssize_t in_pubsub
        object subscribe_handler
        set full_queues      # pub/sub queues past their bound; reading is paused while any
        object monitor_queue  # after MONITOR: the Channel that gets every line, else None
        readonly bint reading_paused   # stopped by a full pub/sub queue
        object unset_marker

        # RESP3 (after HELLO 3): push frames are routed by dispatch_push, never queued.
        readonly int protocol_version   # 2 or 3, fixed before the transport connects
        bint resp3
        bint resp2_shapes    # RESP3 replies in RESP2 shapes (all but native_types): waiters get a shape
        bint normalise       # a reader that cannot give RESP2 shapes itself: resolve reshapes
        object push_handler  # called with each push that is not pub/sub, or None
        object lost_handler  # called once at EOF, close or loss (whichever comes first), or None

    cpdef object execute(self, object command, tuple args, object encoding)
    cpdef object execute_converted(self, object converter, object command, tuple args, object encoding)
    cdef object send(self, object command, tuple args, object encoding, object converter)
    cdef object queue_command(self, object command, tuple args, object encoding,
                              CommandKind kind, object arg, object converter)
    cdef bint send_into(self, object sink, object converter, object command, tuple args,
                        object encoding) except -1
    cdef object queue_into(self, object sink, object command, tuple args, object encoding,
                           CommandKind kind, object arg, object converter)
    cdef object new_future(self)
    cdef int check_open(self) except -1
    cdef Waiter push_waiter(self, object future, object encoding, CommandKind kind,
                            object arg, object converter)
    cdef Waiter pop_waiter(self)
    cdef int schedule_flush(self) except -1
    cdef int process_replies(self) except -1
    cdef object next_reply(self)
    cdef int dispatch(self, object reply) except -1
    cdef int resolve(self, Waiter waiter, object reply) except -1
    cdef int fail_subscribe(self, object error, int group) except -1
    cdef int dispatch_pubsub(self, list reply) except -1
    cdef int dispatch_push(self, object frame) except -1
    cdef int track_subscription(self, list reply, object channel) except -1
    cdef int deliver(self, object channel, object message) except -1
    cdef object finish_transaction(self, object reply)
    cdef int apply_reset(self) except -1
    cdef int fail_all(self, object exc) except -1
    cdef int tell_lost(self) except -1
