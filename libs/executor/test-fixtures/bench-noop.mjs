// The no-op trial of the executor benchmark: returns at once.
export default function noop(params) {
  return params.x ?? 0;
}
