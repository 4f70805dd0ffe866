/** The segtune version, recorded in exports and studies. */
export const VERSION = '0.1.0';
