/**
 * Hands the Stryker TypeScript checker the TypeScript 5.9 compiler API (`typescript-5`, an npm
 * alias) instead of the project's TypeScript 7, whose npm package ships the native compiler and
 * no JavaScript compiler API (`import ts from "typescript"` has no `createProgram`).
 * Only imports made from inside @stryker-mutator packages are redirected (the checker and
 * core's tsconfig preprocessor); `npm run typecheck`, the tests and everything else keep
 * TypeScript 7. Registered by stryker.config.mjs in the Stryker process and, through
 * NODE_OPTIONS, in its child processes.
 */
import { register } from "node:module";

register("./typescript-5-hooks.mjs", import.meta.url);
