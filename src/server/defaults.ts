/** Server defaults the command line shows too (kept in a module with no imports, so --help stays instant). */
export const DEFAULT_ACCOUNT_ID = '123456789012';
