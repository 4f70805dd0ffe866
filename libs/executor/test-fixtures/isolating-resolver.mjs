// The test resolver, plus an isolation rule: trials asking for the 'native' backend get a
// process of their own (as the CLI's resolver does for native TensorFlow), those asking for
// 'here' run on the search's own thread (as the CLI's built-in benchmark functions do).
export { resolveWorkload, estimateMemoryBytes } from './resolver.mjs';

export function isolation(_spec, { backend }) {
  return backend === 'native' ? 'process' : backend === 'here' ? 'main' : 'thread';
}
