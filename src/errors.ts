/**
 * Errors a user can fix by changing what they asked for (an option, a name, a value out of range).
 * The CLI exits with code 2 for these and 1 for everything else (missing files, corrupt data, bugs).
 */
export class UsageError extends Error {
  override name = "UsageError";
}
