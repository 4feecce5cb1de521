# cython: language_level=3
"""Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384."""

cdef unsigned short _TABLE[256]


cdef void _fill_table():
    cdef unsigned int byte, crc, _bit
    for byte in range(256):
        crc = byte << 8
        for _bit in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
        _TABLE[byte] = crc


_fill_table()

SLOTS = 16384


cdef unsigned int _crc16(const unsigned char *data, Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    cdef unsigned int crc = 0
    cdef Py_ssize_t i
    for i in range(start, end):
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ data[i]) & 0xFF]
    return crc


cdef unsigned int buffer_slot(const unsigned char *key, Py_ssize_t n) noexcept nogil:
    """The slot of the ``n`` bytes at ``key``: the part inside the first ``{...}`` if non-empty."""
    cdef Py_ssize_t start = 0, end = n, i, j
    for i in range(n):
        if key[i] == b'{':
            for j in range(i + 1, n):
                if key[j] == b'}':
                    if j > i + 1:
                        start = i + 1
                        end = j
                    break
            break
    return _crc16(key, start, end) & 0x3FFF


def crc16(const unsigned char[:] data):
    """CRC16-XMODEM of ``data`` (the checksum Redis Cluster uses)."""
    if data.shape[0] == 0:
        return 0
    return _crc16(&data[0], 0, data.shape[0])


def key_slot(const unsigned char[:] key):
    """The cluster slot of ``key`` (bytes-like): the part inside the first ``{...}`` if non-empty."""
    if key.shape[0] == 0:
        return 0
    return buffer_slot(&key[0], key.shape[0])
