# The C entry point other modules cimport: the slot of a key given as a buffer.
cdef unsigned int buffer_slot(const unsigned char *key, Py_ssize_t n) noexcept nogil
