/** A report format that KeyWarden cannot render (the name comes from a caller: CLI flag, HTTP query). */
export class UnknownReportFormatError extends Error {
  override readonly name = "UnknownReportFormatError";
  constructor(
    readonly format: string,
    readonly supported: readonly string[],
  ) {
    super(`Unknown report format ${JSON.stringify(format)}: expected one of ${supported.join(", ")}.`);
  }
}
