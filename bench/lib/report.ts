// Shared by every benchmark: writes bench/results/<name>.md with the command, the machine
// (cores, Node and peer versions) and the date, then the tables the benchmark measured.
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export interface Table {
  title?: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface BenchReport {
  name: string;
  command: string;
  /** Versions of peers run in the same invocation, e.g. { optuna: '5.0.0' }. */
  peers?: Record<string, string>;
  tables: Table[];
  /** Free text after the tables: goals met or missed, and why. */
  notes?: string[];
}

export function machine(): string {
  const c = cpus();
  return `${c.length} cores (${c[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export function formatTable(t: Table): string {
  const fmt = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v);
  const lines = [];
  if (t.title) lines.push(`### ${t.title}`, '');
  lines.push(`| ${t.columns.join(' | ')} |`, `| ${t.columns.map(() => '---').join(' | ')} |`);
  for (const r of t.rows) lines.push(`| ${r.map(fmt).join(' | ')} |`);
  return lines.join('\n');
}

export function writeReport(r: BenchReport, file = join(resultsDir, `${r.name}.md`)): string {
  mkdirSync(dirname(file), { recursive: true });
  const peers = Object.entries(r.peers ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  const text = [
    `# Benchmark: ${r.name}`,
    '',
    `- command: \`${r.command}\``,
    `- machine: ${machine()}`,
    peers ? `- peers: ${peers}` : undefined,
    `- date: ${new Date().toISOString()}`,
    '',
    ...r.tables.map((t) => `${formatTable(t)}\n`),
    ...(r.notes?.length ? ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
  ]
    .filter((l) => l !== undefined)
    .join('\n');
  writeFileSync(file, text);
  return file;
}
