// The frame-header parser (`ZSTD_getFrameHeader`) is in libzstd's advanced API.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
