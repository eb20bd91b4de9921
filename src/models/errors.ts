/** Thrown for an invalid model configuration, parameter tree or input the model cannot take. */
export class ModelConfigError extends Error {
  override name = "ModelConfigError";
}
