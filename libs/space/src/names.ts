import { z } from 'zod';

/**
 * The one rule for the names a user gives segtune: params, objectives and studies. ASCII
 * letters, digits, "_", "." and "-", starting with a letter or "_", at most 100 characters.
 * Every name can then be a `{placeholder}` in a command's argv, an MLflow key, and a single
 * path segment (no "/", never "." or "..") under results/.
 */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
export const NAME_MAX_LENGTH = 100;
export const NAME_RULE = `letters A-Z, digits, "_", "." or "-", starting with a letter or "_", at most ${NAME_MAX_LENGTH} characters`;

export const nameSchema = z.string().min(1).max(NAME_MAX_LENGTH, `at most ${NAME_MAX_LENGTH} characters`).regex(NAME_PATTERN, NAME_RULE);

/** Why a name breaks the rule, or undefined when it follows it. */
export function nameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return `a name is required (${NAME_RULE})`;
  if (name.length > NAME_MAX_LENGTH) return `"${name.slice(0, 40)}…" is ${name.length} characters long; allowed: ${NAME_RULE}`;
  if (!NAME_PATTERN.test(name)) return `${JSON.stringify(name)} is not a valid name; allowed: ${NAME_RULE}`;
  return undefined;
}
