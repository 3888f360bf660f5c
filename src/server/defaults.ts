/** Defaults shared by the server and the command line (kept in a module with no imports, so --help stays instant). */
export const DEFAULT_ACCOUNT_ID = '123456789012';
