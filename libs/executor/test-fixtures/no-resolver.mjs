// A module that is not a resolver: exports no resolveWorkload.
export const answer = 42;
