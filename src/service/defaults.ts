/** Service defaults the command line shows too (a module with no imports, so --help stays instant). */
/** Linux's dirty_expire_centisecs default: how long a guest's writes may sit in its page cache. */
export const DEFAULT_DIRTY_EXPIRE_SECONDS = 30;
