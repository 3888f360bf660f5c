/** Defaults shared by the server and the command line (kept in a module with no imports, so --help stays instant). */
export const DEFAULT_ACCOUNT_ID = '123456789012';
/** Linux's dirty_expire_centisecs default: how long a guest's writes may sit in its page cache. */
export const DEFAULT_DIRTY_EXPIRE_SECONDS = 30;
