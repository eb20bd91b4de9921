/** Module resolve hook for typescript-5.mjs (runs on Node's loader thread). */
const STRYKER = "/node_modules/@stryker-mutator/";

export async function resolve(specifier, context, next) {
  if (specifier === "typescript" && context.parentURL?.includes(STRYKER)) {
    return next("typescript-5", context);
  }
  return next(specifier, context);
}
