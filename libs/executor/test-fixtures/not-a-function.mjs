// A workload module whose default export is not a function.
export default { lr: 0.1 };
export const notAFunction = 1;
