import { DEFAULT_STORAGE, maskUrl } from '@segtune/storage';

/**
 * A damaged SQLite file shows only when a query reads the damaged page, far from where the
 * storage was opened: this names the storage of the command line (`--storage`) in the one
 * line, as a truncated file's message does. Undefined for any other error.
 */
export function damagedStorageMessage(e: unknown, argv: readonly string[]): string | undefined {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return undefined;
  let storage = DEFAULT_STORAGE;
  argv.forEach((a, i) => {
    if (a === '--storage' && argv[i + 1] !== undefined) storage = argv[i + 1];
    else if (a.startsWith('--storage=')) storage = a.slice('--storage='.length);
  });
  return `--storage: ${maskUrl(storage)} is damaged (${(e as Error).message}); restore it from a backup, or recover what is readable with \`sqlite3 ${storage} .recover\``;
}
