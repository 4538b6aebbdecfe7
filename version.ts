/** fieldgate's version, shown in logs and on the status page. */
export const VERSION = "0.1.0";
