#include <zlib.h>

/// inflateInit2 is a macro; this wraps it so Swift can call it.
static inline int factpipe_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

/// deflateInit2 is a macro; this wraps it so Swift can call it (windowBits 15 + 16 writes a gzip member).
static inline int factpipe_deflate_init2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
