// Lint is about structure, not style: the dependency rule of the design (apps → adapters →
// core → space) is enforced through Nx project tags, plus TypeScript-aware basics.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', 'results/**', '.venvs/**', '.nx/**', 'bench/results/**', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          // Optional adapters (pg, MLflow, dashboard) are imported lazily where they are used,
          // statically elsewhere; the lazy-load rule is about front-end bundle splitting.
          checkDynamicDependenciesExceptions: ['@segtune/*'],
          depConstraints: [
            { sourceTag: 'type:space', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:space'] },
            // Multi-objective samplers and MO-ASHA use the Pareto algorithms (pure, core-only).
            { sourceTag: 'scope:samplers', onlyDependOnLibsWithTags: ['type:core', 'type:space', 'scope:pareto'] },
            // Schedulers' tests drive them with the learning-curve simulator.
            { sourceTag: 'scope:schedulers', onlyDependOnLibsWithTags: ['type:core', 'type:space', 'scope:samplers', 'scope:pareto', 'scope:benchmarks'] },
            { sourceTag: 'scope:storage', onlyDependOnLibsWithTags: ['type:core', 'type:space'] },
            { sourceTag: 'scope:executor', onlyDependOnLibsWithTags: ['type:core', 'type:space'] },
            { sourceTag: 'scope:tracking', onlyDependOnLibsWithTags: ['type:core', 'type:space'] },
            { sourceTag: 'scope:seg', onlyDependOnLibsWithTags: ['type:core', 'type:space'] },
            { sourceTag: 'scope:pareto', onlyDependOnLibsWithTags: ['type:core', 'type:space'] },
            { sourceTag: 'scope:benchmarks', onlyDependOnLibsWithTags: ['type:core', 'type:space'] },
            // Importance (PED-ANOVA, fANOVA) is a pure algorithm library, like Pareto.
            { sourceTag: 'scope:importance', onlyDependOnLibsWithTags: ['type:core', 'type:space', 'scope:pareto'] },
            { sourceTag: 'scope:dashboard', onlyDependOnLibsWithTags: ['type:core', 'type:space', 'scope:storage', 'scope:pareto', 'scope:importance'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
