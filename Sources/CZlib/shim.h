#include <zlib.h>

/// inflateInit2 is a macro; this wraps it so Swift can call it.
static inline int factpipe_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
