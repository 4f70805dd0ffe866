#!/usr/bin/env node
// A command workload for tests: prints JSON reports and a final line, as a training script would.
// argv: --lr X --steps N [--step-ms MS] [--fail] [--ignore-term] [--term-file PATH]
import { writeFileSync } from 'node:fs';
const args = process.argv.slice(2);
const get = (name, d) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : d;
};
const lr = Number(get('lr', '0.1'));
const steps = Number(get('steps', '3'));
const stepMs = Number(get('step-ms', '5'));
if (args.includes('--ignore-term')) process.on('SIGTERM', () => console.error('ignoring SIGTERM'));
else
  process.on('SIGTERM', () => {
    const file = get('term-file');
    if (file) writeFileSync(file, 'SIGTERM');
    console.error('got SIGTERM');
    process.exit(143);
  });
console.log('starting training (not JSON)');
console.log(JSON.stringify({ pid: process.pid, note: 'pid' }));
let step = 0;
const tick = () => {
  step++;
  if (step <= steps) {
    console.log(JSON.stringify({ step, loss: lr / step, phase: 'train' }));
    setTimeout(tick, stepMs);
    return;
  }
  if (args.includes('--fail')) {
    console.error('Traceback: something broke');
    console.error('RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB');
    process.exit(1);
  }
  console.log(JSON.stringify({ final: true, loss: lr / steps, miou: 0.5 + lr, tag: 'done' }));
  console.log('bye');
};
tick();
