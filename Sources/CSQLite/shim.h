#include <sqlite3.h>

/// SQLITE_STATIC and SQLITE_TRANSIENT are macros Swift does not import.
static inline sqlite3_destructor_type factpipe_sqlite_static(void) { return SQLITE_STATIC; }
static inline sqlite3_destructor_type factpipe_sqlite_transient(void) { return SQLITE_TRANSIENT; }
