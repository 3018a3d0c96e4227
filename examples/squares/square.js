/** Each input number comes back squared. */
export default (x) => x * x;
